import Foundation
package import Logging
package import PKCS11
import PKCS11Constants
package import SmartCardCore

/// The daemon's `TokenDriver`: PKCS#11 questions answered from the registry's memory, card operations
/// carried out by the reader actors.
///
/// **Callers must be dedicated threads** (p11-kit connection threads), never tasks of the cooperative
/// pool: each card operation blocks the calling thread on a semaphore while the reader's actor, on its
/// own thread, runs the operation as one PC/SC transaction. `slots()` and `slotEvents(after:)` never
/// wait for a card: they read a snapshot under a lock.
///
/// Every signature writes one audit line (`audit=signature`) with the client, its peer when known
/// (`setPeer`), the key, the mechanism, the result and the duration. No PIN and no APDU data is logged.
package final class DaemonTokenDriver: TokenDriver, TokenDriverControl {
    private let table: SlotTable
    private let logger: Logger
    private let peers = PeerTable()

    package init(registry: ReaderRegistry, logger: Logger) {
        table = registry.table
        self.logger = logger
    }

    // MARK: - From memory

    package func slots() -> [SlotState] { table.slots() }

    package func slotEvents(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64) {
        table.events(after: cursor)
    }

    // MARK: - Card operations

    package func login(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError) {
        // No code on a PIN-pad reader: the reader collects it (cryptolib-pkcs11.md §8.4).
        let onPINPad = pin.count == 0 && userType == .user && hasPINPad(slot)
        if !onPINPad { try Self.checkFormat(pin, length: userType == .user ? Self.pinLength : Self.pukLength) }
        let reader = try reader(slot)
        let pin = SecretHolder(copying: pin)
        try BlockingBridge.wait { () async throws(TokenError) in
            try await reader.login(client: client, generation: generation, userType: userType, pin: pin)
        }
        logger.info("login", metadata: ["client": "\(client)", "slot": "\(slot)", "user_type": "\(userType)"])
    }

    package func logout(client: ClientID, slot: SlotID) {
        guard let reader = table.reader(for: slot) else { return }
        BlockingBridge.wait { await reader.logout(client: client) }
    }

    package func sign(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try keyOperation(client: client, slot: slot, pin: pin, audit: request.audit) { (reader, holder) throws(TokenError) in
            try await reader.sign(client: client, generation: generation, request: request, pin: holder, origin: origin)
        }
    }

    package func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try keyOperation(client: client, slot: slot, pin: pin, audit: request.audit) { (reader, holder) throws(TokenError) in
            try await reader.decrypt(client: client, generation: generation, request: request, pin: holder, origin: origin)
        }
    }

    /// A private-key operation on `slot`'s reader, audited with its outcome and duration.
    private func keyOperation(
        client: ClientID, slot: SlotID, pin: borrowing SecretBytes, audit operation: KeyOperationAudit,
        _ body: @escaping @Sendable (ReaderActor, SecretHolder) async throws(TokenError) -> [UInt8]
    ) throws(TokenError) -> [UInt8] {
        let start = ContinuousClock.now
        let holder = pin.count == 0 ? SecretHolder() : SecretHolder(copying: pin)
        do {
            if pin.count > 0 { try Self.checkFormat(pin, length: Self.pinLength) }
            let reader = try reader(slot)
            let result = try BlockingBridge.wait { () async throws(TokenError) in try await body(reader, holder) }
            audit(client: client, slot: slot, operation: operation, result: "ok", since: start)
            return result
        } catch {
            audit(client: client, slot: slot, operation: operation, result: error.code.rawValue, since: start)
            throw error
        }
    }

    package func writeData(
        client: ClientID, slot: SlotID, generation: UInt64, label: String, value: [UInt8], pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) {
        if pin.count > 0 { try Self.checkFormat(pin, length: Self.pinLength) }
        let reader = try reader(slot)
        let holder = pin.count == 0 ? SecretHolder() : SecretHolder(copying: pin)
        try BlockingBridge.wait { () async throws(TokenError) in
            try await reader.writeData(
                client: client, generation: generation, label: label, value: value, pin: holder, origin: origin)
        }
        // Which object and how long, never the bytes.
        logger.notice(
            "data object written", metadata: ["client": "\(client)", "slot": "\(slot)", "label": "\(label)", "length": "\(value.count)"])
    }

    package func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError) {
        try Self.checkFormat(old, length: Self.pinLength)
        try Self.checkFormat(new, length: Self.pinLength)
        let reader = try reader(slot)
        let (old, new) = (SecretHolder(copying: old), SecretHolder(copying: new))
        try BlockingBridge.wait { () async throws(TokenError) in
            try await reader.changePIN(client: client, generation: generation, old: old, new: new)
        }
        logger.notice("PIN changed", metadata: ["client": "\(client)", "slot": "\(slot)"])
    }

    package func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError) {
        try Self.checkFormat(puk, length: Self.pukLength)
        try Self.checkFormat(newPIN, length: Self.pinLength)
        let reader = try reader(slot)
        let (puk, newPIN) = (SecretHolder(copying: puk), SecretHolder(copying: newPIN))
        try BlockingBridge.wait { () async throws(TokenError) in
            try await reader.unblockPIN(client: client, generation: generation, puk: puk, newPIN: newPIN)
        }
        logger.notice("PIN unblocked", metadata: ["client": "\(client)", "slot": "\(slot)"])
    }

    package func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError)
        -> [UInt8]
    {
        guard length > 0 else { return [] }
        let reader = try reader(slot)
        return try BlockingBridge.wait { () async throws(TokenError) in
            try await reader.generateRandom(client: client, generation: generation, length: length)
        }
    }

    package func clientEnded(_ client: ClientID) {
        peers.set(nil, for: client)
        for slot in table.slots() { logout(client: client, slot: slot.id) }
    }

    // MARK: - TokenDriverControl

    package func setPeer(_ peer: PeerInfo?, for client: ClientID) { peers.set(peer, for: client) }

    package func refreshCounters(slot: SlotID) {
        guard let reader = table.reader(for: slot) else { return }
        BlockingBridge.wait { await reader.refreshCounters() }
    }

    package func forgetVerification(slot: SlotID) {
        guard let reader = table.reader(for: slot) else { return }
        BlockingBridge.wait { await reader.forgetVerification() }
    }

    // MARK: - Helpers

    private static let pinLength = 4
    private static let pukLength = 8

    private func hasPINPad(_ slot: SlotID) -> Bool {
        table.slots().first { $0.id == slot }?.token?.protectedAuthenticationPath == true
    }

    private func reader(_ slot: SlotID) throws(TokenError) -> ReaderActor {
        guard let reader = table.reader(for: slot) else { throw TokenError(.slotInvalid, "no slot \(slot)") }
        return reader
    }

    /// Length and digits are checked before any card sees the code, so a typo never costs a try.
    private static func checkFormat(_ secret: borrowing SecretBytes, length: Int) throws(TokenError) {
        guard secret.count == length else {
            throw TokenError(.pinLengthRange, "the code must be \(length) digits, got \(secret.count)")
        }
        guard secret.isAllDigits else { throw TokenError(.pinInvalid, "the code must be digits only") }
    }

    private func audit(
        client: ClientID, slot: SlotID, operation: KeyOperationAudit, result: String, since start: ContinuousClock.Instant
    ) {
        var metadata: Logger.Metadata = [
            "audit": "\(operation.kind)", "client": "\(client)", "slot": "\(slot)",
            "key": "\(operation.keyLabel)", "mechanism": "\(operation.mechanismName)", "result": "\(result)",
            "duration_ms": "\((ContinuousClock.now - start).milliseconds)",
        ]
        if let peer = peers.peer(for: client) {
            metadata["peer_pid"] = "\(peer.pid)"
            metadata["peer_uid"] = "\(peer.uid)"
            if let executable = peer.executable { metadata["peer_exe"] = "\(executable)" }
        }
        logger.notice("\(operation.kind)", metadata: metadata)
    }
}

/// The peers of the connected clients, for audit lines.
private final class PeerTable: @unchecked Sendable {
    private let lock = NSLock()
    private var peers: [ClientID: PeerInfo] = [:]

    func set(_ peer: PeerInfo?, for client: ClientID) { lock.withLock { peers[client] = peer } }
    func peer(for client: ClientID) -> PeerInfo? { lock.withLock { peers[client] } }
}

/// What an audit line says of a private-key operation: never the data, only which key and how.
struct KeyOperationAudit: Sendable {
    var kind: String
    var keyLabel: String
    var mechanismName: String

    static func keyLabel(_ role: KeyRole) -> String { role == .authentication ? "CPS_PRIV_AUT" : "CPS_PRIV_SIG" }
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
