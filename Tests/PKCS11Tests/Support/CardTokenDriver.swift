import CardTestSupport
import Foundation
import IASECC
import PKCS11
import SmartCardCore
import VirtualCard

/// A synchronous `TokenDriver` over the project's real card drivers (chosen by ATR, CPS3 or CPS4) and the
/// in-process simulator: the PKCS#11 layer is tested against a real token, no mock of the card. Like the daemon's reader actors,
/// it keeps the card's verified state owned by one client at a time, resetting the card otherwise.
final class CardTokenDriver: TokenDriver, @unchecked Sendable {
    static let slotID: SlotID = 3
    static let readerName = InProcessCard.readerName

    private let lock = NSLock()
    private let backend: VirtualBackend
    private var connection: (any CardConnection)?
    private(set) var card: CPS3Card?
    /// The driver of the card in the reader, bound to what it read at insertion.
    private var cardDriver: any CardDriver = CPS3Driver()
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
    /// Decryptions the card was asked for, to check that a too-small buffer does not cost another one.
    private(set) var decryptCount = 0

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
            let (driver, contents) = try CPS3Driver.perform(on: connection) { session in
                let driver = try CardDrivers.driver(for: session)
                let contents = try driver.readCard(&session)
                return (driver.bound(to: contents), contents)
            }
            cardDriver = driver
            generation += 1
            token = Self.token(from: contents, driver: driver, generation: generation)
            recordEvent()
        }
    }

    /// The token as the daemon shows it: keys the driver knows, with the capabilities of this generation.
    private static func token(from contents: CardContents, driver: any CardDriver, generation: UInt64) -> TokenState {
        var keys: [TokenPrivateKey] = []
        var certificates: [TokenCertificate] = []
        for key in contents.privateKeys {
            guard let role = driver.role(of: key) else { continue }
            let certificate = contents.certificate(for: key)
            let bits = certificate.flatMap { CertificateFields.modulusBits(ofCertificate: $0.der) }
            keys.append(
                TokenPrivateKey(
                    label: key.label, id: key.id, role: role, modulusBits: bits ?? key.modulusLength ?? 2048,
                    capabilities: driver.capabilities(of: role)))
            if let certificate {
                certificates.append(
                    TokenCertificate(label: certificate.object.label, id: key.id, der: certificate.der, role: role))
            }
        }
        let pinObject = contents.pinObjects.first { !$0.isUnblockingPIN }
        let prefix = driver.kind == .cps4 ? "CPS4v1" : "CPS3v3"
        return TokenState(
            generation: generation, label: contents.tokenInfo.label ?? "\(prefix)-\(contents.serialNumber)",
            manufacturer: "ASIP SANTE", model: driver.model, serialNumber: contents.serialNumber,
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
            let status = try? CPS3Driver.perform(on: connection, { session in try cardDriver.readPINStatus(&session) })
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
        let driver = locked { cardDriver }
        try checkFormat(pin, length: userType == .user ? driver.pinLength : driver.pukLength)
        try cardOperation(slot, generation, keepingStateOf: nil, refreshCounters: true) { session in
            self.verifyCount += 1
            if userType == .user {
                try driver.verifyPIN(&session, pin)
            } else {
                try driver.verifyPUK(&session, pin)
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
            try self.verifyIfNeeded(&session, client: client, pin: pin)
            return try self.cardDriver.sign(&session, request)
        }
    }

    /// VERIFY the PIN unless this client's verification is on the card (caller holds the lock).
    private func verifyIfNeeded(
        _ session: inout CardSession, client: ClientID, pin: borrowing SecretBytes
    ) throws {
        guard securityOwner != client else { return }
        verifyCount += 1
        try cardDriver.verifyPIN(&session, pin)
        securityOwner = client
    }

    func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try cardOperation(slot, generation, keepingStateOf: client, refreshCounters: false) { session in
            try self.verifyIfNeeded(&session, client: client, pin: pin)
            self.decryptCount += 1
            return try self.cardDriver.decrypt(&session, request)
        }
    }

    func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError) {
        let driver = locked { cardDriver }
        try checkFormat(old, length: driver.pinLength)
        try checkFormat(new, length: driver.pinLength)
        try cardOperation(slot, generation, keepingStateOf: nil, refreshCounters: true) { session in
            try driver.changePIN(&session, old: old, new: new)
            self.securityOwner = client
        }
    }

    func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError) {
        let driver = locked { cardDriver }
        try checkFormat(newPIN, length: driver.pinLength)
        try cardOperation(slot, generation, keepingStateOf: nil, refreshCounters: true) { session in
            try driver.unblockPIN(&session, puk: puk, newPIN: newPIN)
            self.securityOwner = client
        }
    }

    func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError) -> [UInt8] {
        try cardOperation(slot, generation, keepingStateOf: client, refreshCounters: false) { session in
            try self.cardDriver.getChallenge(&session, length: length)
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
