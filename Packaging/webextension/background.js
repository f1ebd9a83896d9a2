// cpsd WebExtension, background: the only part of the extension that talks to cpsd's bridge.
// One file for both browsers: Chromium runs it as the MV3 service worker, Firefox as the event page.
//
// Pages reach it through the content script (one runtime Port per request); the popup through
// runtime messages. The origin sent to the bridge is always the one the browser reports for the
// sending frame (MessageSender), never anything the page wrote. Tokens and certificates are never logged.
"use strict";

const ext = globalThis.browser ?? globalThis.chrome;

const DEFAULT_BRIDGE_PORT = 36443;
const PAGE_PORT_NAME = "cps-bridge/page";
// The bridge ends a user interaction after at most 300 s; past this the call is abandoned.
const BRIDGE_CALL_LIMIT_MS = 330_000;
// Chromium stops an extension service worker idle for 30 s, and a pending fetch does not count as
// activity; calling an extension API resets that timer. Firefox's event pages behave alike. (Seen in
// Chromium 156 and Firefox ESR 153: without this, a PIN typed after 30 s reached a dead worker.)
const KEEP_ALIVE_INTERVAL_MS = 20_000;
// Per-site throttle of page requests (each can open cpsd's PIN dialog): one at a time per origin, and
// a token bucket of PAGE_BURST requests refilled one every PAGE_REFILL_MS. Kept in memory: the worker
// is only stopped after 30 s idle, when every bucket would be full again anyway.
const PAGE_BURST = 3;
const PAGE_REFILL_MS = 10_000;

// ---- Settings and secrets (storage.local, never storage.sync)

function validPort(value) {
  return Number.isInteger(value) && value > 0 && value < 65536;
}

async function loadSettings() {
  const stored = await ext.storage.local.get(["bridgePort", "token", "pairing"]);
  return {
    port: validPort(stored.bridgePort) ? stored.bridgePort : DEFAULT_BRIDGE_PORT,
    token: typeof stored.token === "string" && stored.token.length > 0 ? stored.token : null,
    pairing: stored.pairing && typeof stored.pairing.id === "string" ? stored.pairing : null,
  };
}

// ---- Errors: plain {code, message, retriesLeft?} objects, the shape pages and the popup receive

function failure(code, message, retriesLeft) {
  const error = { code, message };
  if (Number.isInteger(retriesLeft)) error.retriesLeft = retriesLeft;
  return error;
}

function publicError(error) {
  if (error && typeof error.code === "string" && /^ERR_[A-Z_]+$/.test(error.code)) {
    return failure(error.code, typeof error.message === "string" ? error.message : "", error.retriesLeft);
  }
  return failure("ERR_INTERNAL", "unexpected failure in the cpsd extension");
}

// ---- The bridge client
// Every call is a POST, status included: browsers send no Origin header with an extension's GET to a
// host it has permission for (Fetch: no CORS tainting), and the bridge admits callers by their Origin.

async function bridgeCall(method, path, body, { token = null, signal } = {}) {
  const { port } = await loadSettings();
  const headers = { "X-CPS-Bridge": "1" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`https://127.0.0.1:${port}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      signal,
    });
  } catch {
    if (signal && signal.aborted) throw failure("ERR_USER_TIMEOUT", "cpsd did not answer in time");
    // Refused connection or untrusted certificate: the browser does not say which.
    throw failure(
      "ERR_BRIDGE_UNAVAILABLE",
      `cpsd does not answer on https://127.0.0.1:${port} (is cpsd running, and was \`cpsctl setup\` run?)`,
    );
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (response.ok && payload && typeof payload === "object") return payload;
  const error = payload && payload.error;
  if (error && typeof error.code === "string" && /^ERR_[A-Z_]+$/.test(error.code)) {
    if (error.code === "ERR_UNAUTHORIZED_CALLER") {
      // The stored token is unknown to cpsd (pairing revoked, or cpsd's state reset): pair again.
      throw failure("ERR_NOT_PAIRED", "cpsd no longer knows this browser: pair again from the extension's popup");
    }
    throw failure(error.code, typeof error.message === "string" ? error.message : "", error.retriesLeft);
  }
  throw failure("ERR_INTERNAL", `unexpected answer from cpsd (HTTP ${response.status})`);
}

async function keepingAlive(promise) {
  const timer = setInterval(() => ext.runtime.getPlatformInfo(), KEEP_ALIVE_INTERVAL_MS);
  try {
    return await promise;
  } finally {
    clearInterval(timer);
  }
}

// ---- Page requests (through the content script)

/// The https origin of a top-level document, as the browser reports it; null for anything else.
function pageOrigin(sender) {
  if (!sender || sender.id !== ext.runtime.id || !sender.tab || sender.frameId !== 0) return null;
  let origin = typeof sender.origin === "string" ? sender.origin : null;
  if (!origin && typeof sender.url === "string") {
    try {
      origin = new URL(sender.url).origin;
    } catch {
      origin = null;
    }
  }
  return origin && origin.startsWith("https://") ? origin : null;
}

function requestLanguage(message) {
  const lang = message && message.lang;
  if (typeof lang === "string" && /^[a-z]{2}$/.test(lang)) return lang;
  return ext.i18n.getUILanguage().slice(0, 2).toLowerCase();
}

// ---- Per-site throttle

const pendingOrigins = new Set(); // origins with a request at cpsd now
const buckets = new Map(); // origin -> {tokens, at}; only origins whose bucket is not full

/// Takes one request slot for `origin`, or throws ERR_TOO_MANY_REQUESTS (and takes nothing). The check
/// and the taking happen without an await in between: two requests cannot both pass.
function admitPageRequest(origin) {
  const now = Date.now();
  for (const [site, bucket] of buckets) {
    if (bucket.tokens + (now - bucket.at) / PAGE_REFILL_MS >= PAGE_BURST) buckets.delete(site); // full again
  }
  if (pendingOrigins.has(origin)) {
    throw failure("ERR_TOO_MANY_REQUESTS", "a request of this site is already waiting for the user");
  }
  const bucket = buckets.get(origin) ?? { tokens: PAGE_BURST, at: now };
  const tokens = Math.min(PAGE_BURST, bucket.tokens + (now - bucket.at) / PAGE_REFILL_MS);
  if (tokens < 1) throw failure("ERR_TOO_MANY_REQUESTS", "too many requests from this site: wait a moment");
  buckets.set(origin, { tokens: tokens - 1, at: now });
  pendingOrigins.add(origin);
  return () => pendingOrigins.delete(origin);
}

/// The web-eid:1.0 token with exactly its five fields.
function webEidToken(answer) {
  const fields = ["unverifiedCertificate", "algorithm", "signature", "format", "appVersion"];
  const token = {};
  for (const field of fields) {
    if (typeof answer[field] !== "string") throw failure("ERR_INTERNAL", `cpsd's token lacks ${field}`);
    token[field] = answer[field];
  }
  return token;
}

// Pages get no bridge status: the content script answers `status` itself with availability only.
async function handlePageRequest(origin, message, requestId, signal) {
  if (!origin) throw failure("ERR_CONTEXT_INSECURE", "only top-level https pages may use the CPS card");
  if (!message || message.action !== "authenticate") throw failure("ERR_INVALID_ARGUMENT", "unknown action");
  const nonce = message.challengeNonce;
  if (typeof nonce !== "string") throw failure("ERR_INVALID_ARGUMENT", "challengeNonce must be a string");
  const release = admitPageRequest(origin);
  try {
    const { token } = await loadSettings();
    if (!token) throw failure("ERR_NOT_PAIRED", "this browser is not paired with cpsd: open the extension's popup");
    const body = { requestId, origin, challengeNonce: nonce, lang: requestLanguage(message) };
    return webEidToken(await keepingAlive(bridgeCall("POST", "/v1/authenticate", body, { token, signal })));
  } finally {
    release();
  }
}

async function cancelBridgeRequest(requestId) {
  const { token } = await loadSettings();
  if (!token) return;
  try {
    await bridgeCall("POST", "/v1/cancel", { requestId }, { token });
  } catch {
    // Nothing pending any more, or cpsd gone: either way nothing is left to cancel.
  }
}

ext.runtime.onConnect.addListener((port) => {
  if (port.name !== PAGE_PORT_NAME) {
    port.disconnect();
    return;
  }
  const origin = pageOrigin(port.sender);
  const abort = new AbortController();
  let requestId = null;
  let answered = false;
  port.onMessage.addListener(async (message) => {
    if (requestId !== null) return; // one request per port
    requestId = crypto.randomUUID();
    const limit = setTimeout(() => abort.abort(), BRIDGE_CALL_LIMIT_MS);
    let answer;
    try {
      answer = { result: await handlePageRequest(origin, message, requestId, abort.signal) };
    } catch (error) {
      answer = { error: publicError(error) };
    } finally {
      clearTimeout(limit);
    }
    if (answered) return;
    answered = true;
    try {
      port.postMessage(answer);
      port.disconnect();
    } catch {
      // The page went away meanwhile.
    }
  });
  // The page gave up (timeout, navigation, closed tab): close cpsd's dialog too.
  port.onDisconnect.addListener(() => {
    if (requestId === null || answered) return;
    answered = true;
    cancelBridgeRequest(requestId).finally(() => abort.abort());
  });
});

// ---- The popup (pairing and status)

function fromPopup(sender) {
  return (
    sender && sender.id === ext.runtime.id && typeof sender.url === "string" &&
    sender.url.startsWith(ext.runtime.getURL("popup.html"))
  );
}

async function popupStatus() {
  const { port, token, pairing } = await loadSettings();
  const pendingPairing = pairing && pairing.expiresAt > Date.now() ? { expiresAt: pairing.expiresAt } : null;
  let bridge;
  try {
    const status = await bridgeCall("POST", "/v1/status", {}, { token });
    const readers = Array.isArray(status.readers) ? status.readers : [];
    bridge = {
      version: String(status.version ?? ""),
      paired: status.paired === true,
      readers: readers.map((reader) => ({
        name: String(reader.name ?? ""), cardPresent: reader.cardPresent === true, cardType: reader.cardType ?? null,
      })),
    };
  } catch (error) {
    bridge = { error: publicError(error) };
  }
  return { port, hasToken: token !== null, pendingPairing, bridge };
}

async function pairStart() {
  const answer = await bridgeCall("POST", "/v1/pair/start", {});
  if (typeof answer.pairingId !== "string") throw failure("ERR_INTERNAL", "cpsd's pairing answer lacks pairingId");
  const seconds = Number.isInteger(answer.expiresIn) ? answer.expiresIn : 120;
  const pairing = { id: answer.pairingId, expiresAt: Date.now() + seconds * 1000 };
  // Kept in storage: the popup closes when cpsd's dialog takes the focus, the pairing must outlive it.
  await ext.storage.local.set({ pairing });
  return { expiresAt: pairing.expiresAt };
}

async function pairFinish(code) {
  if (typeof code !== "string" || !/^[0-9]{6}$/.test(code)) {
    throw failure("ERR_INVALID_ARGUMENT", "the pairing code has 6 digits");
  }
  const { pairing } = await loadSettings();
  if (!pairing || pairing.expiresAt <= Date.now()) {
    await ext.storage.local.remove("pairing");
    throw failure("ERR_PAIRING_REFUSED", "no pairing in progress: start again");
  }
  let answer;
  try {
    answer = await bridgeCall("POST", "/v1/pair/finish", { pairingId: pairing.id, code });
  } catch (error) {
    // A wrong code leaves the pairing open (cpsd allows 3 tries); anything else ends it.
    if (error.code !== "ERR_PAIRING_REFUSED") await ext.storage.local.remove("pairing");
    throw error;
  }
  if (typeof answer.token !== "string" || answer.token.length === 0) {
    throw failure("ERR_INTERNAL", "cpsd's pairing answer lacks the token");
  }
  await ext.storage.local.set({ token: answer.token });
  await ext.storage.local.remove("pairing");
  return { paired: true };
}

async function handlePopupMessage(message) {
  switch (message && message.op) {
    case "status":
      return popupStatus();
    case "pairStart":
      return pairStart();
    case "pairFinish":
      return pairFinish(message.code);
    case "forget":
      await ext.storage.local.remove(["token", "pairing"]);
      return { paired: false };
    case "setPort":
      if (!validPort(message.port)) throw failure("ERR_INVALID_ARGUMENT", "a port is a number from 1 to 65535");
      await ext.storage.local.set({ bridgePort: message.port });
      return { port: message.port };
    default:
      throw failure("ERR_INVALID_ARGUMENT", "unknown operation");
  }
}

ext.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!fromPopup(sender)) return false;
  handlePopupMessage(message).then(
    (result) => sendResponse({ result }),
    (error) => sendResponse({ error: publicError(error) }),
  );
  return true; // answered asynchronously
});
