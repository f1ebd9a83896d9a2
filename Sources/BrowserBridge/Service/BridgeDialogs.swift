package import SmartCardCore

/// What the user is asked, in the user's own session, never in a web page.
package struct PINQuestion: Sendable {
    /// The web origin that asks (from the browser, through the extension).
    package var origin: String
    /// Holder's name and identifier, from the authentication certificate.
    package var holder: String
    package var triesLeft: Int
    package var maxTries: Int
    package var timeout: Duration
}

/// The bridge's dialogs. The production implementation is pinentry (`PinEntryDialogs`); a dialog
/// the user closes throws `.userCancelled`, one left unanswered `.userTimeout`.
package protocol BridgeDialogs: Sendable {
    /// The card PIN for an authentication. The PIN goes straight to the card, then is zeroed.
    func askPIN(_ question: PINQuestion, hook: CancellationHook) throws(BridgeError) -> SecretBytes

    /// Shows the pairing code an extension must type back; returns when the user closed the dialog.
    func showPairingCode(
        extensionOrigin: String, code: String, timeout: Duration, hook: CancellationHook
    ) throws(BridgeError)

    /// Asks whether `origin` may read the holder's signature certificate; a refusal throws `.userCancelled`.
    func askConsent(origin: String, holder: String, timeout: Duration, hook: CancellationHook) throws(BridgeError)
}
