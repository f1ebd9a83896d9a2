import IASECC
import P11KitClient
import PKCS11Constants
import SmartCardCore

/// A certificate object as cpsd serves it.
struct DaemonCertificate {
    /// "auth" or "sig", from the object's CKA_ID.
    let name: String
    let label: String
    let der: [UInt8]
}

/// The card of one cpsd slot, reached through PKCS#11 (p11-kit-client.so): what `card`, `pin` and
/// `sign` need, in cpsctl's terms. Every failure comes back as a `CLIError` with advice.
final class DaemonCard {
    /// CKA_ID of CPS_PRIV_SIG / CPS_PRIV_AUT and their certificates (cps3-card.md §6).
    /// The CKA_IDs of both generations (cps4-card.md §5): the PKCS#15 AID then 01/02 on CPS3, 10/20 on CPS4.
    static func role(ofKeyID id: [UInt8]) -> KeyRole? {
        let prefix: [UInt8] = [0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10]
        guard id.count == prefix.count + 1, id.starts(with: prefix) else { return nil }
        switch id[prefix.count] {
        case 0x02, 0x20: return .authentication
        case 0x01, 0x10: return .signature
        default: return nil
        }
    }

    /// The private key labels, the same on CPS3 and CPS4 (§5).
    static func privateKeyLabel(_ role: KeyRole) -> String { role == .authentication ? "CPS_PRIV_AUT" : "CPS_PRIV_SIG" }
    /// CPS3 PIN and PUK counters both allow 3 tries; PKCS#11 does not carry the maximum.
    static let maxTries = 3

    let route: DaemonRoute
    let slot: UInt
    let readerName: String
    private let client: PKCS11Client

    /// Connects to cpsd and picks the slot of `reader`, or the first slot holding a card.
    init(route: DaemonRoute, reader: String?) throws(CLIError) {
        self.route = route
        do {
            try route.checkServerIsOurs()  // before p11-kit-client.so connects and anything (a PIN) is sent
        } catch {
            throw CLIError(error.reason)
        }
        do {
            client = try PKCS11Client(serverAddress: route.serverAddress)
        } catch {
            throw CLIError(
                "cpsd answers at \(route.socketPath) but cpsctl cannot talk to it: \(error). "
                    + "Install p11-kit-modules, or use --direct with cpsd stopped.")
        }
        let slots = try Self.call { [client] () throws(PKCS11ClientError) in
            var described: [(UInt, String)] = []
            for slot in try client.slots(tokenPresent: false) { described.append((slot, try client.slotDescription(slot))) }
            return described
        }
        guard !slots.isEmpty else { throw CLIError.noReaders }
        if let reader {
            // The slot description is the reader's name cut at 64 bytes.
            guard let match = slots.first(where: { $0.1 == reader || (reader.utf8.count > 64 && reader.hasPrefix($0.1)) })
            else {
                throw CLIError("cpsd has no reader named \"\(reader)\". Readers: \(slots.map(\.1).joined(separator: ", "))")
            }
            (slot, readerName) = (match.0, reader)
        } else {
            let present = try Self.call { [client] () throws(PKCS11ClientError) in try client.slots(tokenPresent: true) }
            guard let first = slots.first(where: { present.contains($0.0) }) else {
                throw CLIError("No card in any reader cpsd sees (\(slots.count) reader(s)). Insert the card.")
            }
            (slot, readerName) = first
        }
    }

    deinit { client.finalize() }

    // MARK: - Reading

    func tokenInfo() throws(CLIError) -> PKCS11TokenInfo {
        try Self.call { [client, slot] () throws(PKCS11ClientError) in try client.tokenInfo(slot) }
    }

    /// PIN and PUK tries as the token flags imply them (see `counters(flags:low:final:locked:)`).
    func counters() throws(CLIError) -> (pin: CredentialCounters, puk: CredentialCounters) {
        Self.counters(tokenFlags: try tokenInfo().flags)
    }

    static func counters(tokenFlags flags: UInt) -> (pin: CredentialCounters, puk: CredentialCounters) {
        return (
            counters(flags, low: CKF.userPINCountLow, final: CKF.userPINFinalTry, locked: CKF.userPINLocked),
            counters(flags, low: CKF.soPINCountLow, final: CKF.soPINFinalTry, locked: CKF.soPINLocked)
        )
    }

    /// LOCKED → 0, FINAL_TRY → 1, COUNT_LOW → fewer than the maximum: for CPS3's 3-try counters exactly
    /// 2 (neither 1 nor 0); with a larger maximum it would only be an upper bound. No flag → all tries.
    static func counters(_ flags: UInt, low: UInt, final: UInt, locked: UInt) -> CredentialCounters {
        let left: Int
        if flags & locked != 0 {
            left = 0
        } else if flags & final != 0 {
            left = 1
        } else if flags & low != 0 {
            left = maxTries - 1
        } else {
            left = maxTries
        }
        return CredentialCounters(maxTries: maxTries, triesLeft: left)
    }

    /// The two certificates (CKA_VALUE of the CKO_CERTIFICATE objects), authentication first.
    func certificates() throws(CLIError) -> [DaemonCertificate] {
        try withSession(readWrite: false) { [client] (session) throws(PKCS11ClientError) in
            let template = [(CKA.class, Self.ulong(CKO.certificate))]
            var found: [DaemonCertificate] = []
            for object in try client.findObjects(session, matching: template.map { (type: $0.0, value: $0.1) }) {
                let id = try client.attribute(session, object: object, type: .id)
                let name = id.flatMap(Self.role(ofKeyID:)).map { $0 == .authentication ? "auth" : "sig" }
                guard let name, let der = try client.attribute(session, object: object, type: .value)
                else { continue }
                let label = try client.attribute(session, object: object, type: .label) ?? []
                found.append(DaemonCertificate(name: name, label: String(decoding: label, as: UTF8.self), der: der))
            }
            return found.sorted { $0.name < $1.name }
        }
    }

    // MARK: - PIN operations and signatures

    /// C_SetPIN in a read-write session: one CHANGE REFERENCE DATA, one try at most.
    func changePIN(old: borrowing SecretBytes, new: borrowing SecretBytes) throws(CLIError) {
        try withSession(readWrite: true, user: .user) { [client] (session) throws(PKCS11ClientError) in
            try client.setPIN(session, old: old, new: new)
        }
    }

    /// C_Login(CKU_SO, PUK) then C_InitPIN(new PIN), as Cryptolib's unblocking.
    func unblockPIN(puk: borrowing SecretBytes, newPIN: borrowing SecretBytes) throws(CLIError) {
        try withSession(readWrite: true, user: .so) { [client] (session) throws(PKCS11ClientError) in
            try client.login(session, as: .so, pin: puk)
            defer { client.logout(session) }
            try client.initPIN(session, pin: newPIN)
        }
    }

    /// C_Login(user), the private key by label, C_SignInit/C_Sign, C_Logout.
    func sign(pin: borrowing SecretBytes, key role: KeyRole, mechanism: CKM, input: [UInt8]) throws(CLIError) -> [UInt8] {
        try withSigningKey(pin: pin, role: role) { [client] (session, key) throws(PKCS11ClientError) in
            try client.sign(session, mechanism: mechanism, key: key, data: input)
        }
    }

    /// Whether cpsd reports a token in this card's slot now.
    func tokenPresent() -> Bool {
        (try? client.slots(tokenPresent: true).contains(slot)) ?? false
    }

    /// Logs in once, then times `count` C_Sign calls (for `cpsctl bench pkcs11`).
    func timedSignatures(
        pin: borrowing SecretBytes, key role: KeyRole, mechanism: CKM, input: [UInt8], count: Int
    ) throws(CLIError) -> [Duration] {
        try withSigningKey(pin: pin, role: role) { [client] (session, key) throws(PKCS11ClientError) in
            let clock = ContinuousClock()
            var times: [Duration] = []
            for _ in 0..<count {
                let start = clock.now
                _ = try client.sign(session, mechanism: mechanism, key: key, data: input)
                times.append(clock.now - start)
            }
            return times
        }
    }

    /// `count` C_GetSlotInfo calls, each one round trip through the socket that cpsd answers from memory:
    /// what the socket itself costs a call (a signature is two: C_SignInit and C_Sign).
    func timedRoundTrips(count: Int) throws(CLIError) -> [Duration] {
        try Self.call { [client, slot] () throws(PKCS11ClientError) in
            let clock = ContinuousClock()
            return try (0..<count).map { _ throws(PKCS11ClientError) in
                let start = clock.now
                _ = try client.slotDescription(slot)
                return clock.now - start
            }
        }
    }

    /// A session logged in as the user, and `role`'s private key, for `body`; logs out afterwards.
    private func withSigningKey<R>(
        pin: borrowing SecretBytes, role: KeyRole, _ body: (UInt, UInt) throws(PKCS11ClientError) -> R
    ) throws(CLIError) -> R {
        try withSession(readWrite: false, user: .user) { [client] (session) throws(PKCS11ClientError) in
            try client.login(session, as: .user, pin: pin)
            defer { client.logout(session) }
            let template = [
                (type: CKA.class, value: Self.ulong(CKO.privateKey)),
                (type: CKA.label, value: Array(Self.privateKeyLabel(role).utf8)),
            ]
            guard let key = try client.findObjects(session, matching: template).first else {
                throw PKCS11ClientError.call("C_FindObjects (private key)", returned: .functionFailed)
            }
            return try body(session, key)
        }
    }

    // MARK: - Helpers

    /// Runs `body` in a fresh session, closed afterwards; errors explained for `user`'s code.
    private func withSession<R>(
        readWrite: Bool, user: CKU = .user, _ body: (UInt) throws(PKCS11ClientError) -> R
    ) throws(CLIError) -> R {
        do {
            let session = try client.openSession(slot, readWrite: readWrite)
            defer { client.closeSession(session) }
            return try body(session)
        } catch {
            throw explain(error, user: user)
        }
    }

    private static func call<R>(_ body: () throws(PKCS11ClientError) -> R) throws(CLIError) -> R {
        do {
            return try body()
        } catch {
            throw CLIError("cpsd: \(error)")
        }
    }

    /// A CK_ULONG attribute value in host byte order.
    private static func ulong(_ value: UInt) -> [UInt8] { AttributeBytes.ulong(value) }
}
