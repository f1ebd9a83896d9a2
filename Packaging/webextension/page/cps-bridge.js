// cps-bridge.js — the page library for services that log users in with the CPS card through cpsd.
//
//   button.onclick = async () => {                                  // from the user's click: required
//     const token = await CpsBridge.authenticate(challengeNonce);   // the web-eid:1.0 token
//     // POST it to your server, which checks it with the nonce and origin it knows (never the page's copy).
//   };
//
// Talks only to the cpsd WebExtension's content script, with window.postMessage on the page's own
// origin (docs/bridge-protocol.md, "Page API"). Failures reject with a CpsBridgeError whose `code` is
// ERR_EXTENSION_UNAVAILABLE (no extension answered within 1 s), ERR_USER_TIMEOUT (no answer in time),
// or the extension's and cpsd's own codes (ERR_USER_GESTURE_REQUIRED, ERR_TOO_MANY_REQUESTS, ERR_NOT_PAIRED,
// ERR_BRIDGE_UNAVAILABLE, ERR_PIN_INVALID with `retriesLeft`, ERR_USER_CANCELLED, ERR_CARD_NOT_PRESENT, …).
(function (global) {
  "use strict";

  const ACK_TIMEOUT_MS = 1000;
  const AUTHENTICATE_TIMEOUT_MS = 120000;
  const STATUS_TIMEOUT_MS = 15000;

  class CpsBridgeError extends Error {
    constructor(code, message, retriesLeft) {
      super(message || code);
      this.name = "CpsBridgeError";
      this.code = code;
      if (Number.isInteger(retriesLeft)) this.retriesLeft = retriesLeft;
    }
  }

  let counter = 0;
  function newId() {
    counter += 1;
    const crypto = global.crypto;
    const random = crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    return `cps-${random}-${counter}`;
  }

  // Sends one request; `onAck` runs when the extension acknowledges it. The promise settles with the
  // extension's answer, or rejects when no ack comes within 1 s or no answer within `timeoutMs`.
  function send(fields, timeoutMs, onAck) {
    return new Promise((resolve, reject) => {
      const id = newId();
      const origin = global.location.origin;
      let ackTimer = null;
      let answerTimer = null;

      function finish() {
        clearTimeout(ackTimer);
        clearTimeout(answerTimer);
        global.removeEventListener("message", listen);
      }

      function listen(event) {
        if (event.source !== global || event.origin !== origin) return;
        const data = event.data;
        if (!data || typeof data !== "object" || data.id !== id) return;
        if (data.cpsBridge === "ack") {
          clearTimeout(ackTimer);
          if (onAck && onAck() === true) finish();
        } else if (data.cpsBridge === "response") {
          finish();
          if (data.error) {
            reject(new CpsBridgeError(String(data.error.code), data.error.message, data.error.retriesLeft));
          } else {
            resolve(data.result);
          }
        }
      }

      global.addEventListener("message", listen);
      ackTimer = setTimeout(() => {
        finish();
        reject(new CpsBridgeError("ERR_EXTENSION_UNAVAILABLE", "the cpsd extension is not installed or not enabled"));
      }, ACK_TIMEOUT_MS);
      answerTimer = setTimeout(() => {
        finish();
        global.postMessage({ cpsBridge: "cancel", id }, origin); // closes cpsd's dialog
        reject(new CpsBridgeError("ERR_USER_TIMEOUT", "no answer in time"));
      }, timeoutMs);
      global.postMessage(Object.assign({ cpsBridge: "request", id }, fields), origin);
    });
  }

  function timeoutOf(options, fallback) {
    const timeout = options && options.timeout;
    return Number.isFinite(timeout) && timeout > 0 ? timeout : fallback;
  }

  const CpsBridge = {
    /// Resolves true when the cpsd extension acknowledges within 1 s (it asks cpsd nothing else).
    isAvailable() {
      return new Promise((resolve) => {
        send({ action: "status" }, STATUS_TIMEOUT_MS, () => {
          resolve(true);
          return true; // the status itself is not needed
        }).catch(() => resolve(false));
      });
    },

    /// {available: true}: all a page learns before the user acts (not whether cpsd runs, the browser is
    /// paired or a card is inserted; authenticate says so when the user clicks).
    status(options) {
      return send({ action: "status" }, timeoutOf(options, STATUS_TIMEOUT_MS));
    },

    /// The web-eid:1.0 token {unverifiedCertificate, algorithm, signature, format, appVersion} signed by
    /// the card for this page's origin and `challengeNonce` (44 to 128 characters, from your server).
    /// Options: `timeout` in ms (default 120 s: the time to type the PIN), `lang` ("fr", "en", …).
    /// Call it from the user's click (or key press), within a few seconds: otherwise the extension answers
    /// ERR_USER_GESTURE_REQUIRED and cpsd is never asked. A site gets one request at a time, three in a
    /// row, then one every 10 s (ERR_TOO_MANY_REQUESTS).
    authenticate(challengeNonce, options) {
      const fields = { action: "authenticate", challengeNonce };
      if (options && typeof options.lang === "string") fields.lang = options.lang;
      return send(fields, timeoutOf(options, AUTHENTICATE_TIMEOUT_MS));
    },

    CpsBridgeError,
  };

  global.CpsBridge = Object.freeze(CpsBridge);
})(typeof window !== "undefined" ? window : globalThis);
