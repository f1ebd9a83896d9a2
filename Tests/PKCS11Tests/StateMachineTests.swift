import PKCS11Constants
import SmartCardCore
import Testing

@testable import P11KitServer
@testable import PKCS11

/// The pure state machines, without a card.
@Suite("PKCS11 state machines")
struct StateMachineTests {
    static let context = SignContext(
        keyHandle: 7, keyLabel: "CPS_PRIV_SIG", role: .signature, signature: .sha256RSAPKCS, signatureLength: 256)

    @Test func signOperationKeepsItselfForQueriesOnly() throws {
        var operation = SignOperation()
        #expect(throws: PKCS11Error(.operationNotInitialized)) { try operation.single(data: [], capacity: 256) }
        #expect(throws: PKCS11Error(.operationNotInitialized)) { try operation.update(part: [1]) }
        try operation.begin(Self.context)
        #expect(throws: PKCS11Error(.operationActive)) { try operation.begin(Self.context) }
        #expect(try operation.single(data: [1], capacity: nil) == .answer(.length(256)))
        #expect(try operation.single(data: [1], capacity: 0) == .answer(.bufferTooSmall(256)))
        #expect(operation.isActive)
        #expect(try operation.single(data: [1], capacity: 256) == .sign(Self.context, data: [1]))
        #expect(!operation.isActive)
    }

    @Test func multiPartBuffersAndBounds() throws {
        var operation = SignOperation()
        try operation.begin(Self.context)
        try operation.update(part: [1, 2])
        try operation.update(part: [3])
        #expect(try operation.final(capacity: nil) == .answer(.length(256)))
        #expect(try operation.final(capacity: 300) == .sign(Self.context, data: [1, 2, 3]))
        try operation.begin(Self.context)
        try operation.update(part: Array(repeating: 0, count: SignOperation.maxBufferedData))
        #expect(throws: PKCS11Error(.dataLenRange)) { try operation.update(part: [1]) }
        #expect(!operation.isActive)
        // C_Sign in the middle of a multi-part operation ends it.
        try operation.begin(Self.context)
        try operation.update(part: [1])
        #expect(throws: PKCS11Error(.operationActive)) { try operation.single(data: [4], capacity: 256) }
        #expect(!operation.isActive)
    }

    @Test func rsaPKCSInputIsBoundedByTheModulus() throws {
        var operation = SignOperation()
        var context = Self.context
        context.signature = .rsaPKCS
        try operation.begin(context)
        #expect(
            try operation.single(data: Array(repeating: 1, count: 246), capacity: 256)
                == .refuse(context, PKCS11Error(.dataLenRange)))
        #expect(!operation.isActive)
    }

    @Test func decryptOperationKeepsAPlaintextForItsCryptogramOnly() throws {
        var operation = DecryptOperation()
        let context = DecryptContext(
            keyHandle: 5, keyLabel: "CPS_PRIV_AUT", role: .authentication, mechanism: .rsaPKCS, modulusLength: 4)
        let (first, second): ([UInt8], [UInt8]) = ([1, 2, 3, 4], [5, 6, 7, 8])
        try operation.begin(context)
        #expect(try operation.single(cryptogram: first, capacity: nil) == .answer(.length(4)))
        #expect(try operation.single(cryptogram: first, capacity: 1) == .decrypt(context, cryptogram: first))
        #expect(!operation.isActive)
        #expect(operation.deliver([9, 9], context: context, cryptogram: first, capacity: 1) == .bufferTooSmall(2))
        #expect(operation.isActive)
        #expect(try operation.single(cryptogram: first, capacity: nil) == .answer(.length(2)))
        // Another cryptogram is decrypted anew: the kept plaintext is not its answer.
        #expect(try operation.single(cryptogram: second, capacity: 8) == .decrypt(context, cryptogram: second))
        #expect(operation.deliver([7], context: context, cryptogram: second, capacity: 8) == .value([7]))
        #expect(!operation.isActive)
        try operation.begin(context)
        #expect(throws: PKCS11Error(.encryptedDataLenRange)) { try operation.single(cryptogram: [1], capacity: 8) }
        #expect(!operation.isActive)
    }

    @Test func findOperation() throws {
        var find = FindOperation()
        #expect(throws: PKCS11Error(.operationNotInitialized)) { try find.next(max: 1) }
        try find.begin(results: [1, 2, 3])
        #expect(try find.next(max: 2) == [1, 2])
        #expect(try find.next(max: 0) == [])
        #expect(try find.next(max: 5) == [3])
        try find.end()
        #expect(throws: PKCS11Error(.operationNotInitialized)) { try find.end() }
    }

    @Test func loginRules() throws {
        var table = SessionTable()
        var login = LoginState()
        let readOnly = table.open(slot: 1, generation: 1, readWrite: false)
        #expect(throws: PKCS11Error(.sessionReadOnlyExists)) {
            try login.checkLogin(.so, on: 1, sessions: table.sessions(on: 1))
        }
        #expect(try login.checkLogin(.user, on: 1, sessions: table.sessions(on: 1)) == .user)
        #expect(throws: PKCS11Error(.userTypeInvalid)) {
            try login.checkLogin(CKU(rawValue: 9), on: 1, sessions: [])
        }
        login.loggedIn(.user, on: 1, generation: 1)
        #expect(login.state(of: try table.session(readOnly)) == CKS.roUser)
        #expect(throws: PKCS11Error(.userAlreadyLoggedIn)) { try login.checkLogin(.user, on: 1, sessions: []) }
        #expect(throws: PKCS11Error(.userAnotherAlreadyLoggedIn)) { try login.checkLogin(.so, on: 1, sessions: []) }
        #expect(try login.checkLogin(.user, on: 2, sessions: []) == .user)
        try login.logout(on: 1)
        #expect(throws: PKCS11Error(.userNotLoggedIn)) { try login.logout(on: 1) }
        #expect(table.closeAll(slot: 1, keepingGeneration: 1).isEmpty)
        #expect(table.closeAll(slot: 1, keepingGeneration: 2).count == 1)
    }

    @Test func pinCounterFlags() {
        let flags = { (left: Int) in
            PKCS11Connection.counterFlags(
                TokenCounters(triesLeft: left, maxTries: 3), low: CKF.userPINCountLow, final: CKF.userPINFinalTry,
                locked: CKF.userPINLocked)
        }
        #expect(flags(3) == 0)
        #expect(flags(2) == CKF.userPINCountLow)
        #expect(flags(1) == CKF.userPINCountLow | CKF.userPINFinalTry)
        #expect(flags(0) == CKF.userPINCountLow | CKF.userPINLocked)
    }

    @Test func blankPaddingCutsAtACharacterBoundary() {
        var field: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        Convert.blankPadded(&field, "abcé")
        #expect([field.0, field.1, field.2, field.3] == Array("abc ".utf8))
        Convert.blankPadded(&field, "é")
        #expect([field.0, field.1, field.2, field.3] == Array("é  ".utf8))
    }

    @Test func attributeEncoding() {
        #expect(AttributeValue.ulong(0x0102) == [0x02, 0x01, 0, 0, 0, 0, 0, 0])
        #expect(AttributeValue.readULong(AttributeValue.ulong(unavailableInformation)) == unavailableInformation)
        #expect(AttributeValue.readULong([1]) == nil)
        #expect(AttributeValue.bool(true) == [1])
    }
}
