import PKCS11Constants

/// The sessions of one connection (PKCS#11 application): handles, the token generation each was
/// opened on, and per-session operation state. Pure state: no I/O (STYLE.md rule 7).
package struct SessionTable: Sendable {
    package struct Session: Sendable {
        package let handle: UInt
        package let slot: SlotID
        package let generation: UInt64
        package let readWrite: Bool
        package var find = FindOperation()
        package var sign = SignOperation()
        package var decrypt = DecryptOperation()
        package var digest = DigestOperation()
        package var verify = VerifyOperation()
        package var encrypt = EncryptOperation()
    }

    private var sessions: [UInt: Session] = [:]
    private var nextHandle: UInt = 1

    package init() {}

    package mutating func open(slot: SlotID, generation: UInt64, readWrite: Bool) -> UInt {
        let handle = nextHandle
        nextHandle += 1
        sessions[handle] = Session(handle: handle, slot: slot, generation: generation, readWrite: readWrite)
        return handle
    }

    package func session(_ handle: UInt) throws(PKCS11Error) -> Session {
        guard let session = sessions[handle] else { throw PKCS11Error(.sessionHandleInvalid) }
        return session
    }

    /// Runs an event on one session's state.
    package mutating func update<R>(
        _ handle: UInt, _ body: (inout Session) throws(PKCS11Error) -> R
    ) throws(PKCS11Error) -> R {
        guard var session = sessions[handle] else { throw PKCS11Error(.sessionHandleInvalid) }
        defer { sessions[handle] = session }
        return try body(&session)
    }

    package mutating func close(_ handle: UInt) throws(PKCS11Error) -> Session {
        guard let session = sessions.removeValue(forKey: handle) else { throw PKCS11Error(.sessionHandleInvalid) }
        return session
    }

    /// Closes the sessions on `slot` (all of them, or only those of another generation than `keeping`).
    package mutating func closeAll(slot: SlotID, keepingGeneration keeping: UInt64? = nil) -> [Session] {
        let closing = sessions.values.filter { $0.slot == slot && $0.generation != keeping }
        for session in closing { sessions[session.handle] = nil }
        return closing
    }

    package mutating func removeAll() { sessions.removeAll() }

    package func sessions(on slot: SlotID) -> [Session] { sessions.values.filter { $0.slot == slot } }

    package var slotsInUse: Set<SlotID> { Set(sessions.values.map(\.slot)) }
}
