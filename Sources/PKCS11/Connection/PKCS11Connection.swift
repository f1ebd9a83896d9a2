import Foundation
package import PKCS11Constants
import SmartCardCore
import Synchronization

/// One PKCS#11 application: a p11-kit client connection (or an in-process user). It owns its
/// C_Initialize state, session handles, login and operations, so clients never see each other's
/// login (p11-kit-rpc.md §3). Calls are synchronous and come from one thread at a time (the
/// connection's thread); the type is `@unchecked Sendable` only so that it can be handed to that thread.
package final class PKCS11Connection: @unchecked Sendable {
    package let client: ClientID
    package let cards: any TokenService
    /// The process on the other end, for audit (nil in process).
    package var peer: PeerInfo?
    /// Called once per signature the card was asked for (C_Sign, C_SignFinal), with its result.
    package var audit: (@Sendable (SignAudit) -> Void)?

    package private(set) var isInitialized = false
    var sessions = SessionTable()
    var login = LoginState()
    /// The PIN (user) or PUK (SO) of each token logged in, kept for later signatures; zeroed when dropped.
    /// Behind a lock of its own: the idle-timeout sweeper reads it from another thread.
    private let keptSecrets = Mutex<[SlotID: KeptSecret]>([:])
    private var objectCache: [SlotID: (generation: UInt64, data: [TokenDataObject], objects: [TokenObject])] = [:]
    private var eventCursor: UInt64 = 0
    private var pendingEvents: [SlotID] = []

    package init(client: ClientID, cards: any TokenService, peer: PeerInfo? = nil) {
        self.client = client
        self.cards = cards
        self.peer = peer
    }

    // MARK: - Kept PIN and idle timeout

    func keptSecret(_ slot: SlotID) -> KeptSecret? { keptSecrets.withLock { $0[slot] } }

    /// Sets (or with nil, drops) the kept secret of `slot`, or of every slot when `slot` is nil.
    func setKeptSecret(_ secret: KeptSecret?, for slot: SlotID?) {
        keptSecrets.withLock { keptSecrets in
            if let slot { keptSecrets[slot] = secret } else { keptSecrets.removeAll() }
        }
    }

    /// Zeroes every kept PIN/PUK unused for `idle` and makes the card service forget this client's verification.
    /// Called from the server's sweeper thread; the next signature then answers CKR_USER_NOT_LOGGED_IN.
    package func expireIdleSecrets(idleFor idle: Duration) {
        let expired = keptSecrets.withLock { $0.filter { $0.value.expire(ifIdleFor: idle) }.map(\.key) }
        for slot in expired { cards.logout(client: client, slot: slot) }
    }

    // MARK: - General purpose (PKCS#11 2.40 §5.4)

    /// C_Initialize. p11-kit calls it with CKF_OS_LOCKING_OK; calls are serial per connection anyway.
    package func initialize() throws(PKCS11Error) {
        guard !isInitialized else { throw PKCS11Error(.cryptokiAlreadyInitialized) }
        isInitialized = true
        eventCursor = cards.slotEvents(after: 0).cursor
        pendingEvents = []
    }

    /// C_Finalize: everything this application had ends.
    package func finalize() throws(PKCS11Error) {
        try requireInitialized()
        close()
    }

    /// The client disconnected (or finalized): zero the PINs, close the sessions, tell the card service.
    package func close() {
        for slot in login.removeAll() { cards.logout(client: client, slot: slot) }
        setKeptSecret(nil, for: nil)
        sessions.removeAll()
        objectCache.removeAll()
        isInitialized = false
        cards.clientEnded(client)
    }

    /// C_GetInfo.
    package func info() throws(PKCS11Error) -> LibraryInfo {
        try requireInitialized()
        return LibraryInfo()
    }

    /// The answer of every function cpsd does not implement (cps3-card.md §12.4).
    package func unsupported() -> CKR { isInitialized ? .functionNotSupported : .cryptokiNotInitialized }

    /// C_SeedRandom: the card's generator takes no seed (CKR_RANDOM_SEED_NOT_SUPPORTED, as Cryptolib).
    package func seedRandom() -> CKR { isInitialized ? .randomSeedNotSupported : .cryptokiNotInitialized }

    // MARK: - Slots and tokens (§5.5)

    /// C_GetSlotList.
    package func slotList(tokenPresent: Bool) throws(PKCS11Error) -> [SlotID] {
        try requireInitialized()
        return cards.slots().filter { !tokenPresent || $0.token != nil }.map(\.id)
    }

    /// C_GetSlotInfo.
    package func slotInfo(_ slot: SlotID) throws(PKCS11Error) -> SlotInfo {
        let state = try slotState(slot)
        var flags = CKF.removableDevice | CKF.hwSlot
        if state.token != nil { flags |= CKF.tokenPresent }
        return SlotInfo(slotDescription: state.readerName, manufacturerID: "cpsd", flags: flags)
    }

    /// C_GetTokenInfo. The PIN flags follow the counters the card gives now (read again by the card service,
    /// at most once a second: cps3-card.md §7, cryptolib-pkcs11.md §4).
    package func tokenInfo(_ slot: SlotID) throws(PKCS11Error) -> TokenInfo {
        if try slotState(slot).token != nil { cards.refreshCounters(slot: slot) }
        let token = try presentToken(slot)
        // Never CKF_WRITE_PROTECTED: CPS_DATA is writable (cryptolib-pkcs11.md §4).
        var flags = CKF.rng | CKF.loginRequired | CKF.userPINInitialized | CKF.tokenInitialized
        flags |= Self.counterFlags(
            token.pin, low: CKF.userPINCountLow, final: CKF.userPINFinalTry, locked: CKF.userPINLocked)
        flags |= Self.counterFlags(token.puk, low: CKF.soPINCountLow, final: CKF.soPINFinalTry, locked: CKF.soPINLocked)
        if token.protectedAuthenticationPath { flags |= CKF.protectedAuthenticationPath }
        let open = sessions.sessions(on: slot).filter { $0.generation == token.generation }
        return TokenInfo(
            label: token.label, manufacturerID: token.manufacturer, model: token.model,
            serialNumber: token.serialNumber, flags: flags, sessionCount: UInt(open.count),
            rwSessionCount: UInt(open.filter(\.readWrite).count), maxPINLength: UInt(token.maxPINLength),
            minPINLength: UInt(token.minPINLength))
    }

    static func counterFlags(_ counters: TokenCounters, low: UInt, final: UInt, locked: UInt) -> UInt {
        if counters.triesLeft <= 0 { return locked | low }
        var flags: UInt = counters.triesLeft < counters.maxTries ? low : 0
        if counters.triesLeft == 1 { flags |= final }
        return flags
    }

    /// C_GetMechanismList: what the keys of this card generation offer (their `capabilities`).
    package func mechanismList(_ slot: SlotID) throws(PKCS11Error) -> [CKM] {
        try presentToken(slot).mechanisms
    }

    /// C_GetMechanismInfo.
    package func mechanismInfo(_ slot: SlotID, _ type: CKM) throws(PKCS11Error) -> MechanismInfo {
        guard let info = try presentToken(slot).mechanismInfo(type) else { throw PKCS11Error(.mechanismInvalid) }
        return info
    }

    /// C_WaitForSlotEvent: only with CKF_DONT_BLOCK, as p11-kit's proxy (a blocking call would stall the
    /// connection: p11-kit-rpc.md §1).
    package func waitForSlotEvent(flags: UInt) throws(PKCS11Error) -> SlotID {
        try requireInitialized()
        guard flags & CKF.dontBlock != 0 else { throw PKCS11Error(.functionNotSupported, "blocking wait") }
        if pendingEvents.isEmpty {
            let (slots, cursor) = cards.slotEvents(after: eventCursor)
            eventCursor = cursor
            for slot in slots where !pendingEvents.contains(slot) { pendingEvents.append(slot) }
        }
        guard !pendingEvents.isEmpty else { throw PKCS11Error(.noEvent) }
        return pendingEvents.removeFirst()
    }

    // MARK: - Helpers

    func requireInitialized() throws(PKCS11Error) {
        guard isInitialized else { throw PKCS11Error(.cryptokiNotInitialized) }
    }

    func slotState(_ slot: SlotID) throws(PKCS11Error) -> SlotState {
        try requireInitialized()
        guard let state = cards.slots().first(where: { $0.id == slot }) else { throw PKCS11Error(.slotIDInvalid) }
        return state
    }

    func presentToken(_ slot: SlotID) throws(PKCS11Error) -> TokenState {
        guard let token = try slotState(slot).token else { throw PKCS11Error(.tokenNotPresent) }
        return token
    }

    /// The token's objects, all of them (private ones included), built once per generation.
    func allObjects(slot: SlotID, token: TokenState) -> [TokenObject] {
        // The data objects change within a generation (private ones read at a login, CPS_DATA written).
        if let cached = objectCache[slot], cached.generation == token.generation, cached.data == token.dataObjects {
            return cached.objects
        }
        let objects = TokenObjects.build(slot: slot, token: token)
        objectCache[slot] = (token.generation, token.dataObjects, objects)
        return objects
    }

    /// The objects this application may see now: private ones only after a user login.
    func visibleObjects(slot: SlotID, token: TokenState) -> [TokenObject] {
        let loggedIn = login.user(on: slot) == .user
        return allObjects(slot: slot, token: token).filter { loggedIn || !$0.isPrivate }
    }
}

/// A PIN or PUK kept after C_Login for later signatures; zeroed when the last reference goes, or
/// earlier when it has not been used for the idle timeout (another thread may expire it, hence the lock).
final class KeptSecret: Sendable {
    private struct State: ~Copyable {
        let secret: SecretBytes
        var expired = false
        var lastUse = ContinuousClock.now
    }

    private let state: Mutex<State>

    init(_ secret: consuming SecretBytes) { state = Mutex(State(secret: secret)) }

    /// Lends the secret to `body`, or returns nil without calling it once the secret expired: an expired
    /// (zeroed) PIN must never reach the card.
    func use<R>(_ body: (borrowing SecretBytes) throws(TokenError) -> R) throws(TokenError) -> R? {
        try state.withLock { (state) throws(TokenError) -> R? in
            guard !state.expired else { return nil }
            state.lastUse = .now
            return try body(state.secret)
        }
    }

    /// Zeroes the secret if it has not been used for `idle`; true if it expired now.
    func expire(ifIdleFor idle: Duration) -> Bool {
        state.withLock { state in
            guard !state.expired, ContinuousClock.now - state.lastUse >= idle else { return false }
            state.expired = true
            state.secret.zeroize()
            return true
        }
    }
}
