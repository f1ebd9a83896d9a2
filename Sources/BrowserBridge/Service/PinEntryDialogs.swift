package import PinEntry
package import SmartCardCore

/// The bridge's dialogs through pinentry, the desktop's own PIN dialog program: the PIN is typed
/// there, read by cpsd straight into a `SecretBytes`, sent to the card and zeroed. It never exists
/// in the browser, the extension or the page.
package struct PinEntryDialogs: BridgeDialogs {
    private let program: PinEntryProgram

    package init(program: PinEntryProgram) { self.program = program }

    package func askPIN(_ question: PINQuestion, hook: CancellationHook) throws(BridgeError) -> SecretBytes {
        let dialog = PinEntryDialog(
            description: DialogTexts.authentication(question), title: DialogTexts.title, prompt: "Code PIN :",
            error: DialogTexts.lowTries(question), okLabel: "Se connecter", cancelLabel: "Annuler",
            timeout: question.timeout)
        let cancellation = PinEntryCancellation()
        hook.onCancel { cancellation.cancel() }
        do {
            return try program.getPIN(dialog, cancellation: cancellation)
        } catch {
            throw Self.map(error)
        }
    }

    package func showPairingCode(
        extensionOrigin: String, code: String, timeout: Duration, hook: CancellationHook
    ) throws(BridgeError) {
        let dialog = PinEntryDialog(
            description: DialogTexts.pairing(extensionOrigin: extensionOrigin, code: code), title: DialogTexts.title,
            okLabel: "Fermer", timeout: timeout)
        let cancellation = PinEntryCancellation()
        hook.onCancel { cancellation.cancel() }
        do {
            try program.message(dialog, cancellation: cancellation)
        } catch {
            throw Self.map(error)
        }
    }

    package func askConsent(origin: String, holder: String, timeout: Duration, hook: CancellationHook) throws(BridgeError) {
        let dialog = PinEntryDialog(
            description: DialogTexts.consent(origin: origin, holder: holder), title: DialogTexts.title,
            okLabel: "Autoriser", cancelLabel: "Refuser", timeout: timeout)
        let cancellation = PinEntryCancellation()
        hook.onCancel { cancellation.cancel() }
        let allowed: Bool
        do {
            allowed = try program.confirm(dialog, cancellation: cancellation)
        } catch {
            throw Self.map(error)
        }
        guard allowed else { throw BridgeError(.userCancelled, "the user refused") }
    }

    static func map(_ error: PinEntryError) -> BridgeError {
        switch error.code {
        case .cancelled: BridgeError(.userCancelled, "the user cancelled the dialog")
        case .timedOut: BridgeError(.userTimeout, "nobody answered the dialog in time")
        case .programNotFound:
            BridgeError(.internalError, "no PIN dialog: install pinentry (or set pinentry-program in cpsd.conf)")
        default: BridgeError(.internalError, "the PIN dialog failed: \(error.reason)")
        }
    }
}
