import CardTestSupport
import PKCS11
import PKCS11Constants
import Synchronization
import SmartCardCore
import Testing
import VirtualCard

@Suite("PKCS11Connection: library, slots, token, sessions, login")
struct TokenAndLoginTests {
    @Test func initializeAndFinalizeArePerConnection() async throws {
        try await onThread {
            let fixture = try Fixture()
            #expect(throws: PKCS11Error(.cryptokiAlreadyInitialized)) { try fixture.connection.initialize() }
            let other = PKCS11Connection(client: ClientID(2), cards: fixture.cards)
            #expect(throws: PKCS11Error(.cryptokiNotInitialized)) { try other.slotList(tokenPresent: false) }
            #expect(other.unsupported() == .cryptokiNotInitialized)
            #expect(fixture.connection.unsupported() == .functionNotSupported)
            try fixture.connection.finalize()
            #expect(throws: PKCS11Error(.cryptokiNotInitialized)) { try fixture.connection.finalize() }
            try fixture.connection.initialize()
        }
    }

    @Test func librarySlotAndTokenInfo() async throws {
        try await onThread {
            let fixture = try Fixture()
            let info = try fixture.connection.info()
            #expect(info.manufacturerID == "cpsd")
            #expect(info.cryptokiVersion == (2, 40))
            #expect(try fixture.connection.slotList(tokenPresent: true) == [fixture.slot])
            let slot = try fixture.connection.slotInfo(fixture.slot)
            #expect(slot.slotDescription == Fixture.readerName)
            #expect(slot.flags == CKF.removableDevice | CKF.hwSlot | CKF.tokenPresent)
            #expect(throws: PKCS11Error(.slotIDInvalid)) { try fixture.connection.slotInfo(99) }
            let token = try fixture.connection.tokenInfo(fixture.slot)
            #expect(token.label.hasPrefix("CPS3v3-"))
            #expect(token.manufacturerID == "ASIP SANTE")
            #expect(token.model == "IAS ECC")
            #expect(!token.serialNumber.isEmpty)
            #expect(
                token.flags == CKF.rng | CKF.loginRequired | CKF.userPINInitialized
                    | CKF.tokenInitialized)
            #expect(token.minPINLength == 4)
            #expect(token.totalPublicMemory == unavailableInformation)
            #expect(try fixture.connection.mechanismList(fixture.slot) == [.sha1, .sha256, .rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS])
            let mechanism = try fixture.connection.mechanismInfo(fixture.slot, .sha256RSAPKCS)
            #expect(mechanism == MechanismInfo(minKeySize: 512, maxKeySize: 2048, flags: CKF.signFlag | CKF.verifyFlag))
            #expect(throws: PKCS11Error(.mechanismInvalid)) {
                try fixture.connection.mechanismInfo(fixture.slot, CKM(rawValue: 0x1041))
            }
        }
    }

    @Test func sessionsAndTheirStates() async throws {
        try await onThread {
            let fixture = try Fixture()
            #expect(throws: PKCS11Error(.sessionParallelNotSupported)) {
                try fixture.connection.openSession(slot: fixture.slot, flags: 0)
            }
            let readOnly = try fixture.open()
            let readWrite = try fixture.open(readWrite: true)
            #expect(try fixture.connection.sessionInfo(readOnly).state == CKS.roPublic)
            #expect(try fixture.connection.sessionInfo(readWrite).state == CKS.rwPublic)
            #expect(try fixture.connection.tokenInfo(fixture.slot).sessionCount == 2)
            try fixture.connection.login(session: readOnly, userType: .user, pin: Fixture.secret(Fixture.pin))
            #expect(try fixture.connection.sessionInfo(readOnly).state == CKS.roUser)
            #expect(try fixture.connection.sessionInfo(readWrite).state == CKS.rwUser)
            #expect(throws: PKCS11Error(.userAlreadyLoggedIn)) {
                try fixture.connection.login(session: readWrite, userType: .user, pin: Fixture.secret(Fixture.pin))
            }
            #expect(throws: PKCS11Error(.userAnotherAlreadyLoggedIn)) {
                try fixture.connection.login(session: readWrite, userType: .so, pin: Fixture.secret(Fixture.puk))
            }
            try fixture.connection.closeSession(readOnly)
            #expect(throws: PKCS11Error(.sessionHandleInvalid)) { try fixture.connection.sessionInfo(readOnly) }
            try fixture.connection.closeSession(readWrite)
            // The last session closed: the login ended with it.
            let again = try fixture.open()
            #expect(try fixture.connection.sessionInfo(again).state == CKS.roPublic)
            try fixture.connection.closeAllSessions(slot: fixture.slot)
            #expect(throws: PKCS11Error(.sessionHandleInvalid)) { try fixture.connection.sessionInfo(again) }
        }
    }

    @Test func wrongPINSpendsExactlyOneTryAndSetsTheFlags() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            #expect(throws: PKCS11Error(.pinIncorrect)) {
                try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.wrongPIN))
            }
            #expect(fixture.cards.card?.state.pin.triesLeft == 2)
            #expect(fixture.cards.verifyCount == 1)
            #expect(try fixture.tokenFlags() & (CKF.userPINCountLow | CKF.userPINFinalTry) == CKF.userPINCountLow)
            #expect(try fixture.connection.sessionInfo(session).state == CKS.roPublic)
            #expect(throws: PKCS11Error(.pinIncorrect)) {
                try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.wrongPIN))
            }
            #expect(try fixture.tokenFlags() & CKF.userPINFinalTry != 0)
            #expect(throws: (any Error).self) {
                try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.wrongPIN))
            }
            #expect(try fixture.tokenFlags() & CKF.userPINLocked != 0)
            #expect(throws: PKCS11Error(.pinLocked)) {
                try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.pin))
            }
            // A code of the wrong length: CKR_PIN_INCORRECT for C_Login, as Cryptolib, without reaching the card.
            #expect(throws: PKCS11Error(.pinIncorrect)) {
                try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret([0x31]))
            }
            #expect(fixture.cards.card?.state.pin.triesLeft == 0)
        }
    }

    @Test func soLoginAndInitPINUnblock() async throws {
        try await onThread {
            let fixture = try Fixture()
            let readOnly = try fixture.open()
            for _ in 0..<3 {
                _ = try? fixture.connection.login(session: readOnly, userType: .user, pin: Fixture.secret(Fixture.wrongPIN))
            }
            #expect(try fixture.tokenFlags() & CKF.userPINLocked != 0)
            #expect(throws: PKCS11Error(.sessionReadOnlyExists)) {
                try fixture.connection.login(session: readOnly, userType: .so, pin: Fixture.secret(Fixture.puk))
            }
            try fixture.connection.closeSession(readOnly)
            let session = try fixture.open(readWrite: true)
            #expect(throws: PKCS11Error(.userNotLoggedIn)) {
                try fixture.connection.initPIN(session: session, pin: Fixture.secret(Fixture.pin))
            }
            try fixture.connection.login(session: session, userType: .so, pin: Fixture.secret(Fixture.puk))
            #expect(try fixture.connection.sessionInfo(session).state == CKS.rwSO)
            #expect(throws: PKCS11Error(.sessionReadWriteSOExists)) { try fixture.open() }
            let newPIN = Array("4321".utf8)
            try fixture.connection.initPIN(session: session, pin: Fixture.secret(newPIN))
            try fixture.connection.logout(session: session)
            #expect(try fixture.tokenFlags() & (CKF.userPINLocked | CKF.userPINCountLow) == 0)
            try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(newPIN))
            #expect(try fixture.connection.sessionInfo(session).state == CKS.rwUser)
        }
    }

    @Test func setPINChangesItAndLaterSignaturesUseTheNewOne() async throws {
        try await onThread {
            let fixture = try Fixture()
            let readOnly = try fixture.open()
            #expect(throws: PKCS11Error(.sessionReadOnly)) {
                try fixture.connection.setPIN(
                    session: readOnly, old: Fixture.secret(Fixture.pin), new: Fixture.secret(Array("5678".utf8)))
            }
            let session = try fixture.loggedInSession(readWrite: true)
            try fixture.connection.setPIN(
                session: session, old: Fixture.secret(Fixture.pin), new: Fixture.secret(Array("5678".utf8)))
            let other = try Fixture(cards: fixture.cards, client: 2)
            let otherSession = try other.open()
            #expect(throws: PKCS11Error(.pinIncorrect)) {
                try other.connection.login(session: otherSession, userType: .user, pin: Fixture.secret(Fixture.pin))
            }
            try other.connection.login(session: otherSession, userType: .user, pin: Fixture.secret(Array("5678".utf8)))
            // The first client's login went on with the new PIN it set; the other client's refused and accepted
            // VERIFYs left the counter where the daemon knows it, so the kept (new) PIN is sent and signs.
            let key = try fixture.object(session, label: "CPS_PRIV_SIG", objectClass: CKO.privateKey)
            let signature = try fixture.sign(session, key: key, .sha256RSAPKCS, Array("after change".utf8))
            let publicKey = try fixture.certificateKey(session, certificateLabel: Fixture.signCertificate)
            #expect(publicKey.verifies(signature, sha256: Array("after change".utf8)))
        }
    }

    @Test func logoutAndNotLoggedIn() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            #expect(throws: PKCS11Error(.userNotLoggedIn)) { try fixture.connection.logout(session: session) }
            try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.pin))
            try fixture.connection.logout(session: session)
            #expect(try fixture.connection.sessionInfo(session).state == CKS.roPublic)
            #expect(throws: PKCS11Error(.userTypeInvalid)) {
                try fixture.connection.login(session: session, userType: CKU(rawValue: 7), pin: Fixture.secret(Fixture.pin))
            }
        }
    }

    @Test func waitForSlotEventDoesNotBlock() async throws {
        try await onThread {
            let fixture = try Fixture()
            #expect(throws: PKCS11Error(.functionNotSupported)) { try fixture.connection.waitForSlotEvent(flags: 0) }
            #expect(throws: PKCS11Error(.noEvent)) { try fixture.connection.waitForSlotEvent(flags: CKF.dontBlock) }
            try fixture.cards.removeCard()
            #expect(try fixture.connection.waitForSlotEvent(flags: CKF.dontBlock) == fixture.slot)
            #expect(throws: PKCS11Error(.noEvent)) { try fixture.connection.waitForSlotEvent(flags: CKF.dontBlock) }
            #expect(try fixture.connection.slotList(tokenPresent: true).isEmpty)
            #expect(try fixture.connection.slotList(tokenPresent: false) == [fixture.slot])
        }
    }

    @Test func sessionsOfAnEarlierCardAreInvalid() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            try fixture.cards.removeCard()
            #expect(throws: PKCS11Error(.tokenNotPresent)) { try fixture.open() }
            #expect(throws: PKCS11Error(.tokenNotPresent)) { try fixture.connection.tokenInfo(fixture.slot) }
            try fixture.cards.insertCard()
            #expect(throws: PKCS11Error(.sessionHandleInvalid)) { try fixture.connection.sessionInfo(session) }
            let fresh = try fixture.open()
            #expect(try fixture.connection.sessionInfo(fresh).state == CKS.roPublic)
            #expect(try fixture.find(fresh, []).count == 4 + fixture.publicDataObjectCount)
        }
    }

    @Test func generateRandom() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            let random = try fixture.connection.generateRandom(session: session, length: 20)
            #expect(random.count == 20)
            #expect(try fixture.connection.generateRandom(session: session, length: 0).isEmpty)
            // Bounded: a huge request would hold the reader for seconds on a real card (8 bytes per APDU).
            let most = PKCS11Connection.maxRandomLength
            #expect(try fixture.connection.generateRandom(session: session, length: most).count == most)
            #expect(throws: PKCS11Error(.argumentsBad)) {
                try fixture.connection.generateRandom(session: session, length: most + 1)
            }
            #expect(throws: PKCS11Error(.argumentsBad)) {
                try fixture.connection.generateRandom(session: session, length: Int.max)
            }
        }
    }
}

/// A PIN-pad reader through PKCS#11: CKF_PROTECTED_AUTHENTICATION_PATH, and C_Login(CKU_USER, NULL, 0) has the
/// person type the code on the reader (cryptolib-pkcs11.md §8.4), again for each signature.
@Suite("PKCS11Connection: PIN-pad reader")
struct PINPadTokenTests {
    @Test func loginWithoutACodeUsesTheReadersKeypad() async throws {
        try await onThread {
            let fixture = try Fixture()
            #expect(try fixture.tokenFlags() & CKF.protectedAuthenticationPath == 0, "a reader without a pad")
            let asked = Mutex(0)
            fixture.cards.backend.setPINPad(DaemonToken.readerName) { _ in
                asked.withLock { $0 += 1 }
                return TestCards.pin
            }
            // The card read again in the PIN-pad reader.
            try fixture.cards.removeCard()
            try fixture.cards.insertCard()
            #expect(try fixture.tokenFlags() & CKF.protectedAuthenticationPath != 0)
            let session = try fixture.open()
            try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret([]))
            let key = try fixture.privateKey(session, .authentication)
            try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            let signature = try fixture.connection.sign(session: session, data: Array(repeating: 7, count: 32), capacity: 256)
            guard case .value(let bytes) = signature else { Issue.record("no signature: \(signature)"); return }
            #expect(bytes.count == 256)
            #expect(asked.withLock { $0 } == 2, "the login and the signature each asked the reader")
        }
    }
}
