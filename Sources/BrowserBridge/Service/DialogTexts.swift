/// The French texts of the dialogs (the users are French practitioners), kept apart from the
/// mechanics so they can be reviewed and translated in one place.
package enum DialogTexts {
    package static let title = "Carte CPS — cpsd"

    package static func authentication(_ question: PINQuestion) -> String {
        """
        Le site \(clean(question.origin)) demande à vous identifier avec votre carte CPS.

        Titulaire : \(clean(question.holder))
        Essais restants : \(question.triesLeft) sur \(question.maxTries)

        Saisissez votre code PIN pour accepter, ou Annuler pour refuser.
        """
    }

    package static func lowTries(_ question: PINQuestion) -> String? {
        guard question.triesLeft < question.maxTries else { return nil }
        return question.triesLeft == 1
            ? "Attention : dernier essai. Un code faux bloque la carte."
            : "Attention : il reste \(question.triesLeft) essais."
    }

    package static func pairing(extensionOrigin: String, code: String) -> String {
        let spaced = code.prefix(3) + " " + code.dropFirst(3)
        return """
            Une extension de navigateur demande à utiliser votre carte CPS par cpsd :
            \(clean(extensionOrigin))

            Si c'est vous qui l'avez demandé, saisissez ce code dans la fenêtre de l'extension :

                \(spaced)

            Sinon, fermez cette fenêtre sans rien saisir.
            """
    }

    package static func consent(origin: String, holder: String) -> String {
        """
        Le site \(clean(origin)) demande à lire votre certificat de signature CPS
        (\(clean(holder))). Aucun code PIN n'est demandé pour cela.

        Autoriser ?
        """
    }

    /// Origins and names come from outside: no control or invisible characters reach the dialog.
    static func clean(_ text: String) -> String { PinEntryDialog.untrusted(text, maximumLength: 255) }
}

import PinEntry
