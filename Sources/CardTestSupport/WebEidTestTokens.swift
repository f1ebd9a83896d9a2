package import Foundation
import IASECC
import SmartCardCore
package import VirtualCard
package import WebEid

/// Web eID tokens signed by a virtual card's authentication key, through the real CPS3 driver in process:
/// PIN verified, then INTERNAL AUTHENTICATE over the DigestInfo, as cpsd's bridge does.
package enum WebEidTestTokens {
    package static let appVersion = "https://cpsd.invalid/releases/test"

    /// The RS256 token a card made from `state` gives `origin` for `nonce`. `certificateDER` replaces the
    /// card's own authentication certificate in the token (to present another certificate with a valid
    /// signature).
    package static func token(
        origin: WebOrigin, nonce: String, state: CardState = TestCards.defaultState, certificateDER: [UInt8]? = nil
    ) throws -> WebEidToken {
        let signature = try sign(WebEidSignedData.sha256DigestInfo(origin: origin, nonce: nonce), state: state)
        return .rs256(
            certificateDER: certificateDER ?? state.authenticationCertificateDER, signature: signature,
            appVersion: appVersion)
    }

    /// The card's authentication-key signature (CKM_RSA_PKCS semantics) of `digestInfo`.
    package static func sign(_ digestInfo: [UInt8], state: CardState = TestCards.defaultState) throws -> [UInt8] {
        let rig = try InProcessCard(state: state)
        return try rig.connection.withTransaction { session in
            var bytes = TestCards.pin
            let pin = SecretBytes(consuming: &bytes)
            try CPS3Driver.verifyPIN(&session, pin)
            return try CPS3Driver.signWithAuthenticationKey(&session, input: digestInfo)
        }
    }

    /// The token's JSON text, as a page posts it.
    package static func json(_ token: WebEidToken) -> [UInt8] { Array(token.jsonData()) }
}
