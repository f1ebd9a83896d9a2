import Foundation
import CardIdentity

/// The demo's pages, in French like the services a healthcare professional uses. Scripts and styles are
/// separate files because the Content-Security-Policy allows nothing inline.
enum DemoPages {
    static func loginPage(clientAuthenticationURL: String?) -> String {
        let tlsLink = clientAuthenticationURL.map {
            """
                <p class="aside">Autre parcours : <a href="\(htmlEscaped($0))">authentification TLS par certificat client</a>
                (le parcours Pro Santé Connect actuel).</p>
            """
        } ?? ""
        return """
            <!doctype html>
            <html lang="fr">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Service de démonstration — connexion par carte CPS</title>
            <link rel="stylesheet" href="/style.css">
            <script src="/cps-bridge.js"></script>
            <script src="/login.js" defer></script>
            </head>
            <body>
            <main>
            <h1>Service de démonstration</h1>
            <p>Ce service de test vérifie une connexion par carte CPS faite par cpsd et son extension de navigateur
            (jeton Web eID signé par la clé d'authentification de la carte).</p>
            <button id="login" type="button">Se connecter avec la carte CPS</button>
            <p id="status" role="status" aria-live="polite"></p>
            \(tlsLink)
            </main>
            </body>
            </html>

            """
    }

    /// The login flow: challenge → `CpsBridge.authenticate(nonce)` → login. Errors are shown in words.
    static func loginScript(origin: String) -> String {
        """
        "use strict";
        (function () {
          const expectedOrigin = \(jsonString(origin));
          const messages = {
            ERR_EXTENSION_UNAVAILABLE: "L'extension cpsd n'est pas installée ou pas activée dans ce navigateur.",
            ERR_BRIDGE_UNAVAILABLE: "cpsd ne répond pas : vérifiez qu'il est démarré.",
            ERR_NOT_PAIRED: "L'extension n'est pas encore appairée avec cpsd.",
            ERR_CONTEXT_INSECURE: "Cette page doit être ouverte en HTTPS.",
            ERR_USER_CANCELLED: "Opération annulée.",
            ERR_USER_TIMEOUT: "Délai dépassé.",
            ERR_PIN_INVALID: "Code porteur incorrect.",
            ERR_PIN_BLOCKED: "Code porteur bloqué : débloquez la carte avec le code PUK.",
            ERR_CARD_NOT_PRESENT: "Aucune carte CPS n'est insérée.",
            ERR_ACTION_PENDING: "Une autre opération sur la carte est en cours.",
            ERR_USER_GESTURE_REQUIRED: "La connexion doit être demandée par un clic sur le bouton.",
            ERR_TOO_MANY_REQUESTS: "Trop de demandes : patientez quelques secondes.",
            invalidSignature: "Signature refusée (jeton fait pour un autre site ou un autre défi).",
            nonceNotFound: "Défi inconnu ou déjà utilisé : recommencez.",
            nonceExpired: "Défi expiré : recommencez.",
            untrustedCertificate: "Certificat non émis par l'IGC-Santé configurée.",
            certificateExpired: "Certificat de la carte expiré.",
          };
          const button = document.getElementById("login");
          const status = document.getElementById("status");
          function show(text, kind) {
            status.textContent = text;
            status.className = kind || "";
          }
          function describe(error) {
            const code = error && error.code;
            let text = (code && messages[code]) || (error && error.message) || String(error);
            if (error && Number.isInteger(error.retriesLeft)) {
              text += error.retriesLeft === 1
                ? " Dernier essai avant blocage."
                : " Essais restants : " + error.retriesLeft + ".";
            }
            return code ? text + " (" + code + ")" : text;
          }
          async function post(path, body) {
            const response = await fetch(path, {
              method: "POST", credentials: "same-origin",
              headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
            });
            const data = await response.json().catch(() => ({}));
            if (!response.ok) {
              const error = new Error((data.error && data.error.message) || ("HTTP " + response.status));
              error.code = data.error && data.error.code;
              throw error;
            }
            return data;
          }
          if (location.origin !== expectedOrigin) {
            show("Ouvrez cette page à l'adresse " + expectedOrigin + " : la signature est liée à cette origine.", "error");
          }
          button.addEventListener("click", async function () {
            button.disabled = true;
            show("Préparation du défi…");
            try {
              if (typeof CpsBridge === "undefined") {
                throw Object.assign(new Error("cps-bridge.js absent"), { code: "ERR_EXTENSION_UNAVAILABLE" });
              }
              const challenge = await post("/auth/challenge", {});
              show("Saisissez votre code porteur dans la fenêtre de cpsd…");
              const token = await CpsBridge.authenticate(challenge.challengeNonce);
              const who = await post("/auth/login", token);
              show("Connecté : " + who.name + " (" + who.idNat + ")", "ok");
            } catch (error) {
              show("Échec de la connexion : " + describe(error), "error");
            } finally {
              button.disabled = false;
            }
          });
        })();

        """
    }

    enum ClientAuthenticationOutcome {
        case success(HolderIdentity)
        case failure(String)
    }

    static func clientAuthenticationPage(_ outcome: ClientAuthenticationOutcome, loginPageURL: String?) -> String {
        let body: String
        switch outcome {
        case .success(let identity):
            body = """
                <p id="status" class="ok">Connecté : \(htmlEscaped(identity.displayName)) (\(htmlEscaped(identity.idNat)))</p>
                <dl>
                <dt>Identifiant national</dt><dd id="idNat">\(htmlEscaped(identity.idNat))</dd>
                <dt>Profession</dt><dd id="profession">\(htmlEscaped(identity.profession ?? "—"))</dd>
                <dt>Émetteur</dt><dd>\(htmlEscaped(identity.certificate.issuer))</dd>
                </dl>
                """
        case .failure(let message):
            body = "<p id=\"status\" class=\"error\">\(htmlEscaped(message))</p>"
        }
        let back = loginPageURL.map {
            "<p class=\"aside\"><a href=\"\(htmlEscaped($0))\">Connexion par l'extension cpsd</a></p>"
        } ?? ""
        return """
            <!doctype html>
            <html lang="fr">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Authentification TLS par carte CPS</title>
            <link rel="stylesheet" href="/style.css">
            </head>
            <body>
            <main>
            <h1>Authentification TLS par certificat client</h1>
            <p>Le navigateur a présenté le certificat d'authentification de la carte pendant la négociation TLS 1.2
            (clé signée par la carte via le module PKCS#11 de cpsd).</p>
            \(body)
            \(back)
            </main>
            </body>
            </html>

            """
    }

    static let styleSheet = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #f4f6f9; color: #1d2733; }
        main { max-width: 40rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 8px; }
        h1 { font-size: 1.4rem; color: #0b4f8a; }
        button { font-size: 1rem; padding: 0.7rem 1.2rem; border: 0; border-radius: 4px; background: #0b4f8a;
                 color: #fff; cursor: pointer; }
        button:disabled { opacity: 0.6; cursor: wait; }
        .ok { color: #14661f; font-weight: bold; }
        .error { color: #a11a1a; }
        .aside { margin-top: 2rem; font-size: 0.9rem; }
        dt { font-weight: bold; margin-top: 0.5rem; }

        """

    /// A JavaScript string literal (JSON is a subset of JavaScript), with `<` escaped so it cannot close a tag.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "<": out += "\\u003c"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
