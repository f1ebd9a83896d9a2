// cpsd WebExtension, content script: the page API of docs/bridge-protocol.md.
// The page posts {cpsBridge: "request", id, action, challengeNonce?, lang?} to its own window; this
// script acknowledges at once, forwards only the known fields to the background over a Port of its
// own, and posts the answer back to the page's origin only. {cpsBridge: "cancel", id} abandons a request
// (the background then closes cpsd's dialog).
//
// What a page learns without the user: only that the extension is there. `status` is answered here,
// without asking the background or cpsd (whether a card is inserted or the browser paired is for the
// popup); an action that can open a cpsd dialog (PIN, consent) is forwarded only when the page's call
// comes with transient user activation (a click, a key press in the last few seconds).
"use strict";

(() => {
  const ext = globalThis.browser ?? globalThis.chrome;
  const PAGE_PORT_NAME = "cps-bridge/page";
  const MAX_FIELD_LENGTH = 1024; // the bridge refuses nonces over 128 characters anyway
  const pending = new Map(); // request id -> Port
  // The actions that can open a cpsd dialog: each needs a user gesture. A future action that can (a
  // signature, the signing certificate's consent) belongs here too.
  const GESTURE_ACTIONS = new Set(["authenticate"]);
  // Everything a page may learn of the status.
  const PAGE_STATUS = Object.freeze({ available: true });

  function secureTopLevel() {
    return window.isSecureContext && location.protocol === "https:" && window.top === window;
  }

  /// Whether the page's window has transient user activation now. This script shares the frame's
  /// activation state (Chromium ≥ 72, Firefox ≥ 120; tested in Chromium 156 and Firefox ESR 153) but not
  /// the page's JavaScript objects: a page that redefines navigator.userActivation or
  /// UserActivation.prototype changes nothing seen here (isolated world in Chromium, Xray in Firefox).
  /// postMessage does not consume activation, so the page's click is still active when its message
  /// arrives. Without the API, no dialog (fail closed).
  function userActivationActive() {
    const activation = navigator.userActivation;
    return activation ? activation.isActive === true : false;
  }

  function validId(id) {
    return typeof id === "string" && id.length > 0 && id.length <= 128;
  }

  /// Only the fields the bridge needs, each checked for type and size: whatever else the page sent stays here.
  function forwardedRequest(data) {
    const request = { action: data.action };
    if (data.action === "authenticate") {
      if (typeof data.challengeNonce !== "string" || data.challengeNonce.length > MAX_FIELD_LENGTH) return null;
      request.challengeNonce = data.challengeNonce;
      if (typeof data.lang === "string" && /^[a-z]{2}$/.test(data.lang)) request.lang = data.lang;
    } else if (data.action !== "status") {
      return null;
    }
    return request;
  }

  function failure(id, code, message) {
    return { cpsBridge: "response", id, error: { code, message } };
  }

  function forward(id, request, reply) {
    let port;
    try {
      port = ext.runtime.connect({ name: PAGE_PORT_NAME });
    } catch {
      reply(failure(id, "ERR_EXTENSION_UNAVAILABLE", "the extension was reloaded: reload the page"));
      return;
    }
    let answered = false;
    pending.set(id, port);
    port.onMessage.addListener((answer) => {
      answered = true;
      pending.delete(id);
      port.disconnect();
      if (answer && answer.error) {
        const error = { code: String(answer.error.code), message: String(answer.error.message ?? "") };
        if (Number.isInteger(answer.error.retriesLeft)) error.retriesLeft = answer.error.retriesLeft;
        reply({ cpsBridge: "response", id, error });
      } else {
        reply({ cpsBridge: "response", id, result: answer ? answer.result : null });
      }
    });
    port.onDisconnect.addListener(() => {
      pending.delete(id);
      if (!answered) reply(failure(id, "ERR_EXTENSION_UNAVAILABLE", "the extension stopped"));
    });
    port.postMessage(request);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window) return; // only the page's own window, never frames or other windows
    const data = event.data;
    if (!data || typeof data !== "object" || !validId(data.id)) return;
    // Answers go to the page's origin only: a page that has none (sandboxed, opaque) gets nothing.
    if (typeof event.origin !== "string" || !event.origin.startsWith("https://")) return;
    const reply = (message) => window.postMessage(message, event.origin);

    if (data.cpsBridge === "cancel") {
      const port = pending.get(data.id);
      pending.delete(data.id);
      if (port) port.disconnect();
      return;
    }
    if (data.cpsBridge !== "request") return;
    if (pending.has(data.id)) return; // the page reused an id still in flight

    reply({ cpsBridge: "ack", id: data.id });
    if (!secureTopLevel()) {
      reply(failure(data.id, "ERR_CONTEXT_INSECURE", "the CPS card can only be used from a top-level https page"));
      return;
    }
    const request = forwardedRequest(data);
    if (!request) {
      reply(failure(data.id, "ERR_INVALID_ARGUMENT", "unknown action or malformed field"));
      return;
    }
    if (request.action === "status") {
      reply({ cpsBridge: "response", id: data.id, result: { ...PAGE_STATUS } });
      return;
    }
    if (GESTURE_ACTIONS.has(request.action) && !userActivationActive()) {
      reply(failure(data.id, "ERR_USER_GESTURE_REQUIRED",
        "the CPS card can only be used in answer to the user's action (call it from a click)"));
      return;
    }
    forward(data.id, request, reply);
  });
})();
