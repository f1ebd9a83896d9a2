package import PKCS11Constants

/// Who this connection is logged in as, per token (PKCS#11 login is per application and token).
/// Pure state: the connection calls the driver when an event says so.
package struct LoginState: Sendable {
    private var logins: [SlotID: (user: UserType, generation: UInt64)] = [:]

    package init() {}

    package func user(on slot: SlotID) -> UserType? { logins[slot]?.user }

    /// The token generation the login was made on.
    package func generation(on slot: SlotID) -> UInt64? { logins[slot]?.generation }

    /// C_Login, before the card sees the PIN: the checks of PKCS#11 2.40 §5.6.
    package func checkLogin(_ type: CKU, on slot: SlotID, sessions: [SessionTable.Session]) throws(PKCS11Error)
        -> UserType
    {
        let requested: UserType
        switch type {
        case .user: requested = .user
        case .so: requested = .securityOfficer
        case .contextSpecific: throw PKCS11Error(.operationNotInitialized, "no key needs CKA_ALWAYS_AUTHENTICATE")
        default: throw PKCS11Error(.userTypeInvalid)
        }
        if let current = logins[slot]?.user {
            throw PKCS11Error(current == requested ? .userAlreadyLoggedIn : .userAnotherAlreadyLoggedIn)
        }
        if requested == .securityOfficer, sessions.contains(where: { !$0.readWrite }) {
            throw PKCS11Error(.sessionReadOnlyExists)
        }
        return requested
    }

    package mutating func loggedIn(_ user: UserType, on slot: SlotID, generation: UInt64) {
        logins[slot] = (user, generation)
    }

    /// C_Logout; also when the last session on the token closes or the token goes away.
    package mutating func logout(on slot: SlotID) throws(PKCS11Error) {
        guard logins.removeValue(forKey: slot) != nil else { throw PKCS11Error(.userNotLoggedIn) }
    }

    package mutating func removeAll() -> [SlotID] {
        defer { logins.removeAll() }
        return Array(logins.keys)
    }

    /// CK_SESSION_INFO.state of a session.
    package func state(of session: SessionTable.Session) -> UInt {
        switch (user(on: session.slot), session.readWrite) {
        case (nil, false): CKS.roPublic
        case (nil, true): CKS.rwPublic
        case (.user, false): CKS.roUser
        case (.user, true): CKS.rwUser
        case (.securityOfficer, _): CKS.rwSO
        }
    }
}
