// cpsd WebExtension, popup: bridge status, pairing, bridge port. Every bridge call goes through the
// background (the popup closes as soon as cpsd's dialog takes the focus; the background outlives it).
"use strict";

const ext = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
// Set once the user types a port: a status arriving meanwhile must not overwrite it.
let portEdited = false;

const MESSAGES = {
  ERR_BRIDGE_UNAVAILABLE: "cpsd ne répond pas. Vérifiez qu'il tourne et que « cpsctl setup » a été lancé.",
  ERR_PAIRING_REFUSED: "Code refusé. Vérifiez le code affiché par cpsd (3 essais), ou recommencez l'appairage.",
  ERR_ACTION_PENDING: "cpsd attend déjà une réponse dans une autre fenêtre.",
  ERR_USER_CANCELLED: "Appairage annulé dans cpsd.",
  ERR_USER_TIMEOUT: "Délai dépassé : recommencez l'appairage.",
  ERR_RATE_LIMITED: "Trop de demandes : patientez un instant.",
  ERR_INVALID_ARGUMENT: "Valeur invalide.",
};

async function ask(message) {
  const answer = await ext.runtime.sendMessage(message);
  if (!answer) throw { code: "ERR_INTERNAL", message: "no answer from the extension's background" };
  if (answer.error) throw answer.error;
  return answer.result;
}

function say(text, code = "") {
  $("message").textContent = text;
  $("message").dataset.code = code;
}

function sayError(error) {
  const code = error && error.code ? error.code : "ERR_INTERNAL";
  say(MESSAGES[code] ?? `${code} : ${error && error.message ? error.message : "erreur"}`, code);
}

function renderBridge(status) {
  const bridge = $("bridge");
  const readers = $("readers");
  readers.replaceChildren();
  if (status.bridge.error) {
    bridge.dataset.state = "error";
    bridge.textContent = MESSAGES[status.bridge.error.code] ?? status.bridge.error.message;
    return;
  }
  bridge.dataset.state = "ok";
  const version = status.bridge.version ? ` ${status.bridge.version}` : "";
  bridge.textContent = `cpsd${version} répond (port ${status.port}).`;
  // cpsd tells only a paired browser about its readers and cards.
  if (!status.bridge.paired) return;
  for (const reader of status.bridge.readers) {
    const item = document.createElement("li");
    item.dataset.cardPresent = String(reader.cardPresent);
    const card = reader.cardPresent ? `carte ${reader.cardType ?? "inconnue"}` : "pas de carte";
    item.textContent = `${reader.name} : ${card}`;
    readers.append(item);
  }
  if (status.bridge.readers.length === 0) {
    const item = document.createElement("li");
    item.textContent = "Aucun lecteur.";
    readers.append(item);
  }
}

function renderPairing(status) {
  // Paired means cpsd recognised the stored token; a token cpsd no longer knows calls for a new pairing.
  const paired = status.hasToken && !status.bridge.error && status.bridge.paired;
  const unknown = status.hasToken && status.bridge.error;
  $("paired").dataset.paired = unknown ? "unknown" : String(paired);
  $("paired").textContent = paired
    ? "Ce navigateur est appairé avec cpsd."
    : unknown ? "Appairé (cpsd injoignable pour le confirmer)." : "Ce navigateur n'est pas appairé avec cpsd.";
  $("pair-start").textContent = status.hasToken ? "Appairer de nouveau" : "Appairer ce navigateur avec cpsd";
  $("pair-finish").hidden = status.pendingPairing === null;
  $("forget").hidden = !status.hasToken;
  if (!portEdited) $("port").value = String(status.port);
}

let refreshes = 0;

async function refresh() {
  const mine = ++refreshes;
  try {
    const status = await ask({ op: "status" });
    if (mine !== refreshes) return; // a later refresh (after a new port, a pairing) has the truth
    renderBridge(status);
    renderPairing(status);
    document.body.dataset.ready = "true";
  } catch (error) {
    sayError(error);
  }
}

$("pair-start").addEventListener("click", async () => {
  say("Demande envoyée à cpsd : une fenêtre de cpsd affiche un code.");
  try {
    await ask({ op: "pairStart" });
    $("pair-finish").hidden = false;
    $("pair-code").value = "";
    $("pair-code").focus();
  } catch (error) {
    sayError(error);
  }
});

$("pair-finish").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await ask({ op: "pairFinish", code: $("pair-code").value.trim() });
    say("Appairage réussi.", "paired");
  } catch (error) {
    sayError(error);
  }
  await refresh();
});

$("forget").addEventListener("click", async () => {
  try {
    await ask({ op: "forget" });
    say("Appairage oublié par ce navigateur.");
  } catch (error) {
    sayError(error);
  }
  await refresh();
});

$("port").addEventListener("input", () => {
  portEdited = true;
});

$("port-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await ask({ op: "setPort", port: Number($("port").value) });
    portEdited = false;
    say("Port enregistré.", "port-saved");
  } catch (error) {
    sayError(error);
  }
  await refresh();
});

refresh();
