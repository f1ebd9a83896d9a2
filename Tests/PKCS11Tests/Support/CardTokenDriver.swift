import CardTestSupport
import Foundation
import IASECC
import PKCS11
import SmartCardCore
import VirtualCard

/// A synchronous `TokenDriver` over the project's real CPS3 driver and the in-process simulator: the
/// PKCS#11 layer is tested against a real token, no mock of the card. Like the daemon's reader actors,
/// it keeps the card's verified state owned by one client at a time, resetting the card otherwise.
final class CardTokenDriver: TokenDriver, @unchecked Sendable {
    static let slotID: SlotID = 3
    static let readerName = InProcessCard.readerName

    private let lock = NSLock()
    private let backend: VirtualBackend
    private var connection: (any CardConnection)?
    private(set) var card: CPS3Card?
    private var token: TokenState?
    private var generation: UInt64 = 0
    /// Whose verification the card holds now (nil: none, the card is clean).
    private var securityOwner: ClientID?
    private var events: [(cursor: UInt64, slot: SlotID)] = []
    private var eventCounter: UInt64 = 0
    /// Clients the PKCS#11 layer said goodbye for.
    private(set) var endedClients: [ClientID] = []
    /// True while some client's verification is on the card.
    var isCardVerified: Bool { locked { securityOwner != nil } }
    /// VERIFY commands sent, to check that no PIN is ever retried or sent twice needlessly.
    private(set) var verifyCount = 0

    init(state: CardState = TestCards.defaultState) throws {
        let inProcess = try InProcessCard(state: state)
        backend = inProcess.backend
        connection = inProcess.connection
        card = inProcess.card
        try readToken()
    }

    // MARK: - Test controls

    /// Pulls the card out of the reader.
    func removeCard() throws {
        try locked { () throws in
            try backend.removeCard(from: Self.readerName)
            connection = nil
            card = nil
            token = nil
            securityOwner = nil
            recordEvent()
        }
    }

    /// Inserts a card (a new generation).
    func insertCard(_ state: CardState = TestCards.defaultState) throws {
        try locked { () throws in
            let newCard = TestCards.card(state)
            try backend.insert(newCard, into: Self.readerName)
            card = newCard
            connection = try backend.connect(to: Self.readerName)
        }
        try readToken()
    }

    private func readToken() throws {
        try locked { () throws in
            guard let connection else { return }
            let contents = try CPS3Driver.perform(on: connection) { session in try CPS3Driver.readCard(&session) }
            generation += 1
            token = Self.token(from: contents, generation: generation)
            recordEvent()
        }
    }

    private static func token(from contents: CardContents, generation: UInt64) -> TokenState {
        func role(_ id: [UInt8]) -> KeyRole { id == contents.authenticationKey?.id ? .authentication : .signature }
        let keys = [contents.authenticationKey, contents.signatureKey].compactMap { $0 }.map {
            TokenPrivateKey(
                label: $0.label, id: $0.id, role: role($0.id), modulusBits: $0.modulusLength ?? 2048,
                capabilities: CPS3Driver().capabilities(of: role($0.id)))
        }
        let certificates = contents.certificates.map {
            TokenCertificate(label: $0.object.label, id: $0.object.id, der: $0.der, role: role($0.object.id))
        }
        let pinObject = contents.pinObjects.first { !$0.isUnblockingPIN }
        return TokenState(
            generation: generation, label: contents.tokenInfo.label ?? "CPS3v3-\(contents.serialNumber)",
            manufacturer: "ASIP SANTE", model: "IAS ECC", serialNumber: contents.serialNumber,
            pin: counters(contents.pinStatus.pin), puk: counters(contents.pinStatus.puk),
            minPINLength: pinObject?.minLength ?? 4, maxPINLength: pinObject?.maxLength ?? 8,
            certificates: certificates, privateKeys: keys)
    }

    private static func counters(_ counters: CredentialCounters) -> TokenCounters {
        TokenCounters(triesLeft: counters.triesLeft, maxTries: counters.maxTries)
    }

    private func recordEvent() {
        eventCounter += 1
        events.append((eventCounter, Self.slotID))
    }

    /// Runs `body` in one card transaction, after resetting the card if another client's verification
    /// is on it; reads the PIN counters afterwards when asked.
    func lockedOperation<R>(
        _ slot: SlotID, _ generation: UInt64, keepingStateOf client: ClientID?, refreshCounters: Bool,
        _ body: (inout CardSession) throws -> R
    ) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        guard slot == Self.slotID else { throw TokenError(.slotInvalid, "no slot \(slot)") }
        guard let connection, let token, token.generation == generation else {
            throw TokenError(.deviceRemoved, "the card of generation \(generation) is gone")
        }
        if securityOwner != nil, securityOwner != client { resetCard() }
        defer { if refreshCounters { readCounters(connection) } }
        return try CPS3Driver.perform(on: connection, body)
    }

    private func readCounters(_ connection: any CardConnection) {
        guard
            let status = try? CPS3Driver.perform(on: connection, { session in try CPS3Driver.readPINStatus(&session) })
        else { return }
        token?.pin = Self.counters(status.pin)
        token?.puk = Self.counters(status.puk)
    }

    /// A warm reset: the card forgets every verification.
    private func resetCard() {
        try? connection?.reconnect(.reset)
        securityOwner = nil
    }

    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - TokenDriver

    func slots() -> [SlotState] {
        locked { [SlotState(id: Self.slotID, readerName: Self.readerName, token: token)] }
    }

    func login(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError) {
        try checkFormat(pin, length: userType == .user ? CPS3Driver.pinLength : CPS3Driver.pukLength)
        try cardOperation(slot, generation, keepingStateOf: nil, refreshCounters: true) { session in
            self.verifyCount += 1
            if userType == .user {
                try CPS3Driver.verifyPIN(&session, pin)
            } else {
                try CPS3Driver.verifyPUK(&session, pin)
            }
            self.securityOwner = client
        }
    }

    func logout(client: ClientID, slot: SlotID) {
        locked { if securityOwner == client { resetCard() } }
    }

    func sign(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try cardOperation(slot, generation, keepingStateOf: client, refreshCounters: false) { session in
            if self.securityOwner != client {
                self.verifyCount += 1
                try CPS3Driver.verifyPIN(&session, pin)
                self.securityOwner = client
            }
            return try Self.sign(&session, request)
        }
    }

    private static func sign(_ session: inout CardSession, _ request: SignatureRequest) throws -> [UInt8] {
        try CPS3Driver().sign(&session, request)
    }

    func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try cardOperation(slot, generation, keepingStateOf: client, refreshCounters: false) { session in
            if self.securityOwner != client {
                self.verifyCount += 1
                try CPS3Driver.verifyPIN(&session, pin)
                self.securityOwner = client
            }
            return try CPS3Driver().decrypt(&session, request)
        }
    }

    func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError) {
        try checkFormat(old, length: CPS3Driver.pinLength)
        try checkFormat(new, length: CPS3Driver.pinLength)
        try cardOperation(slot, generation, keepingStateOf: nil, refreshCounters: true) { session in
            try CPS3Driver.changePIN(&session, old: old, new: new)
            self.securityOwner = client
        }
    }

    func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError) {
        try checkFormat(newPIN, length: CPS3Driver.pinLength)
        try cardOperation(slot, generation, keepingStateOf: nil, refreshCounters: true) { session in
            try CPS3Driver.unblockPIN(&session, puk: puk, newPIN: newPIN)
            self.securityOwner = client
        }
    }

    func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError) -> [UInt8] {
        try cardOperation(slot, generation, keepingStateOf: client, refreshCounters: false) { session in
            var bytes: [UInt8] = []
            while bytes.count < length { bytes += try CPS3Driver.getChallenge(&session) }
            return Array(bytes.prefix(length))
        }
    }

    func slotEvents(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64) {
        locked { (events.filter { $0.cursor > cursor }.map(\.slot), eventCounter) }
    }

    func clientEnded(_ client: ClientID) {
        locked {
            endedClients.append(client)
            if securityOwner == client { resetCard() }
        }
    }
}
