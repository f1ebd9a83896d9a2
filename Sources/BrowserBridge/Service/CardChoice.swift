import CardIdentity
import PKCS11
import SmartCardCore

/// The card an operation uses: the first reader holding a CPS with an authentication certificate.
struct CardChoice {
    var slot: SlotID
    var token: TokenState
    var certificate: TokenCertificate
    var holderLine: String

    static func current(_ slots: [SlotState], requestID: String?) throws(BridgeError) -> CardChoice {
        for slot in slots {
            guard let token = slot.token, let certificate = token.certificates.first(where: { $0.role == .authentication })
            else { continue }
            let holder = (try? HolderIdentity(certificateDER: certificate.der)).map { "\($0.displayName) (\($0.idNat))" }
                ?? token.label
            return CardChoice(slot: slot.id, token: token, certificate: certificate, holderLine: holder)
        }
        throw BridgeError(.cardNotPresent, "no CPS card in a reader", requestID: requestID)
    }
}
