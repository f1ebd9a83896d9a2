import _CryptoExtras
package import Foundation
import X509

/// Makes new virtual CPS3 or CPS4 cards: validates the options, generates the two RSA-2048 key pairs and has the test
/// PKI's intermediate (`TEST AC IGC-SANTE FORT PERSONNES`) issue their certificates.
package enum CardFactory {
    /// A freshly provisioned card. Slow in debug builds (two RSA-2048 key generations).
    package static func makeCard(_ options: CardProvisioningOptions) throws -> CardState {
        try makeCard(options, now: Date())
    }

    /// As ``makeCard(_:)``, with the clock that resolves the default validity window.
    package static func makeCard(_ options: CardProvisioningOptions, now: Date) throws -> CardState {
        try options.validate(now: now)
        let window = options.validity(now: now)
        let authority = try TestCertificateAuthority()
        let signatureKey = try generateKey()
        let authenticationKey = try generateKey()
        do {
            let signatureCertificate = try authority.issue(
                usage: .signature, publicKey: signatureKey.publicKey, holder: options.holder,
                notBefore: window.notBefore, notAfter: window.notAfter)
            let authenticationCertificate = try authority.issue(
                usage: .authentication, publicKey: authenticationKey.publicKey, holder: options.holder,
                notBefore: window.notBefore, notAfter: window.notAfter)
            var state = CardState(
                serial: options.serial ?? randomSerial(),
                holder: options.holder,
                pin: Credential(
                    value: options.pin, maxTries: CardProvisioningOptions.maxTries, triesLeft: options.pinTriesLeft),
                puk: Credential(
                    value: options.puk, maxTries: CardProvisioningOptions.maxTries, triesLeft: options.pukTriesLeft),
                unblocksLeft: options.unblocksLeft ?? options.unblocksMax,
                unblocksMax: options.unblocksMax,
                signatureKeyDER: Array(signatureKey.derRepresentation),
                authenticationKeyDER: Array(authenticationKey.derRepresentation),
                signatureCertificateDER: try TestCertificateAuthority.der(signatureCertificate),
                authenticationCertificateDER: try TestCertificateAuthority.der(authenticationCertificate),
                caChainDER: try authority.chainDER()
            )
            // A CPS3 keeps both fields out of its state file, as before CPS4 existed.
            if options.generation == .cps4 { state = state.asGeneration(.cps4, atr: options.cps4ATR) }
            return state
        } catch {
            throw CardProvisioningError(.issuanceFailed, "cannot issue the card certificates: \(error)")
        }
    }

    /// Ten random decimal digits (the card serial of TokenInfo `CPS3v3-<serial>`).
    package static func randomSerial() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<CardProvisioningOptions.serialLength).map { _ in
            Character(String(Int.random(in: 0...9, using: &generator)))
        })
    }

    private static func generateKey() throws(CardProvisioningError) -> _RSA.Signing.PrivateKey {
        do {
            return try _RSA.Signing.PrivateKey(keySize: .bits2048)
        } catch {
            throw CardProvisioningError(.issuanceFailed, "cannot generate an RSA-2048 key: \(error)")
        }
    }
}
