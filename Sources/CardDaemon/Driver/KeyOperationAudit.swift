import Logging
import SmartCardCore
import PKCS11

/// What an audit line says of a private-key operation: never the data, only which key and how.
struct KeyOperationAudit: Sendable {
    var kind: String
    var keyLabel: String
    var mechanismName: String

    static func keyLabel(_ role: KeyRole) -> String { role == .authentication ? "CPS_PRIV_AUT" : "CPS_PRIV_SIG" }
}

extension CardService {
    /// One line per private-key operation: client, peer, key, mechanism, result, duration.
    func audit<Output>(
        client: ClientID, slot: SlotID, operation: KeyOperationAudit, result: Result<Output, TokenError>,
        duration: Duration
    ) {
        let outcome = switch result {
        case .success: "ok"
        case .failure(let error): error.code.rawValue
        }
        var metadata: Logger.Metadata = [
            "audit": "\(operation.kind)", "client": "\(client)", "slot": "\(slot)",
            "key": "\(operation.keyLabel)", "mechanism": "\(operation.mechanismName)", "result": "\(outcome)",
            "duration_ms": "\(duration.milliseconds)",
        ]
        if let peer = peer(of: client) {
            metadata["peer_pid"] = "\(peer.pid)"
            metadata["peer_uid"] = "\(peer.uid)"
            if let executable = peer.executable { metadata["peer_exe"] = "\(executable)" }
        }
        logger.notice("\(operation.kind)", metadata: metadata)
    }
}

extension SignatureRequest {
    var audit: KeyOperationAudit {
        let name =
            switch mechanism {
            case .rsaPKCS: "CKM_RSA_PKCS"
            case .rsaX509: "CKM_RSA_X_509"
            case .sha1RSAPKCS: "CKM_SHA1_RSA_PKCS"
            case .sha256RSAPKCS: "CKM_SHA256_RSA_PKCS"
            case .rsaPKCSPSS: "CKM_RSA_PKCS_PSS"
            case .sha1RSAPKCSPSS: "CKM_SHA1_RSA_PKCS_PSS"
            case .sha256RSAPKCSPSS: "CKM_SHA256_RSA_PKCS_PSS"
            }
        return KeyOperationAudit(kind: "signature", keyLabel: KeyOperationAudit.keyLabel(role), mechanismName: name)
    }
}

extension DecryptionRequest {
    var audit: KeyOperationAudit {
        KeyOperationAudit(
            kind: "decryption", keyLabel: KeyOperationAudit.keyLabel(role),
            mechanismName: mechanism == .rsaPKCS ? "CKM_RSA_PKCS" : "CKM_RSA_X_509")
    }
}
