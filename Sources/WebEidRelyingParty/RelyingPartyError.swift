import ErrorShape
/// Why a relying party refused a login: one code per check of browser-and-psc.md §2.6, so a service can log
/// precisely and tests can tell the refusals apart. The message is for logs; a service should answer the
/// browser with a generic refusal.
/// The shape of SmartCardCore's `CodedError`, written out: this target does not depend on SmartCardCore.
package struct RelyingPartyError: CodedError {
    package enum Code: String, ErrorCode {
        /// The token text is shorter than 100 or longer than 10 000 bytes.
        case tokenLength
        /// Not JSON, a field missing or not a string, a binary field not standard base64.
        case malformedToken
        /// `format` does not start with `web-eid:1`.
        case unsupportedFormat
        /// `algorithm` is not one this validator verifies, or does not fit the certificate's key.
        case unsupportedAlgorithm
        /// `unverifiedCertificate` is not a DER X.509 certificate.
        case malformedCertificate
        case certificateNotYetValid
        case certificateExpired
        /// No keyUsage extension, or it lacks digitalSignature.
        case keyUsage
        /// An extendedKeyUsage extension without clientAuth.
        case extendedKeyUsage
        /// No path to a configured IGC-Santé root.
        case untrustedCertificate
        /// The certificate names no holder (no CN = idNat).
        case missingIdentity
        /// The signature does not verify over the data rebuilt from the expected origin and the stored nonce.
        case invalidSignature
        /// No nonce was issued to this session, or it was already used.
        case nonceNotFound
        /// The session's nonce is older than the store's lifetime.
        case nonceExpired
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

}
