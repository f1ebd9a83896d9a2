import CardTestSupport
import Crypto
import IASECC
import SmartCardCore
import Testing
import VirtualCard
import X509
import _CryptoExtras

/// The driver against the simulator in process: every operation, its APDU count, and its effect.
@Suite("CPS3 driver on the virtual card")
struct DriverTests {
    @Test("a cold read gets serial, PKCS#15 objects, both certificates and the counters in the fewest exchanges")
    func coldRead() throws {
        let rig = try InProcessCard()
        let (contents, exchanges) = try rig.counting { try CPS3Driver.readCard(&$0) }
        #expect(contents.tokenInfo.label == "CPS3v3-\(TestCards.defaultState.serial)")
        #expect(contents.tokenInfo.manufacturer == "ASIP SANTE")
        #expect(contents.serialNumber == CPS3Driver.serialNumber(fromPAN: contents.pan))
        #expect(contents.pinObjects.first?.reference == 1)
        #expect(contents.signatureKey?.label == "CPS_PRIV_SIG")
        #expect(contents.authenticationKey?.label == "CPS_PRIV_AUT")
        #expect(contents.authenticationKey.flatMap(contents.certificate(for:))?.der == TestCards.defaultState.authenticationCertificateDER)
        #expect(contents.signatureKey.flatMap(contents.certificate(for:))?.der == TestCards.defaultState.signatureCertificateDER)
        #expect(contents.pinStatus.pin == CredentialCounters(maxTries: 3, triesLeft: 3))
        #expect(contents.pinStatus.unblocksLeft == TestCards.defaultState.unblocksLeft)
        // Pinned: a new APDU in the cold read makes this fail on purpose. SELECT MF, READ EF.SN, 2 × (GET DATA
        // + GET RESPONSE), SELECT AID, then SELECT + one READ for each of ODF, TokenInfo, AODF, PrKDF, CDF
        // (each under 0xE7 bytes), then SELECT + reads for each certificate: a file of N bytes takes
        // N / 0xE7 + 1 reads (the last one short, or 6B00 at the exact end).
        let reads = { (der: [UInt8]) in der.count / 0xE7 + 1 }
        // Then the business data objects (cryptolib-pkcs11.md §6): SELECT + 2 reads of the DODF (6 objects, over
        // 0xE7 bytes), and SELECT + reads of each free object's file; the private ones wait for a login.
        let freeObjects = contents.dataObjects.filter { !$0.isPrivate }.compactMap(\.value)
        let dataObjects = 3 + freeObjects.map { 1 + reads($0) }.reduce(0, +)
        let expected = 17 + 2 + reads(TestCards.defaultState.authenticationCertificateDER)
            + reads(TestCards.defaultState.signatureCertificateDER) + dataObjects
        #expect(exchanges == expected, "cold read took \(exchanges) exchanges")
    }

    @Test("PIN status costs no try and three exchanges plus GET RESPONSEs")
    func pinStatus() throws {
        let rig = try InProcessCard()
        let (status, exchanges) = try rig.counting { try CPS3Driver.readPINStatus(&$0) }
        #expect(status.pin.triesLeft == 3 && status.puk.triesLeft == 3)
        #expect(exchanges == 5)
        #expect(rig.card.state.pin.triesLeft == 3)
    }

    @Test("a wrong PIN costs exactly one try; the right one restores three")
    func wrongPIN() throws {
        let rig = try InProcessCard()
        var wrong: [UInt8] = [0x39, 0x39, 0x39, 0x39]
        let wrongPIN = SecretBytes(consuming: &wrong)
        #expect(wrong == [0, 0, 0, 0], "the caller's copy is wiped")
        let error = #expect(throws: IASECCError.self) {
            try rig.connection.withTransaction { try CPS3Driver.verifyPIN(&$0, wrongPIN) }
        }
        #expect(error?.code == .wrongPIN && error?.triesLeft == 2)
        #expect(rig.card.state.pin.triesLeft == 2)
        var right = TestCards.pin
        let pin = SecretBytes(consuming: &right)
        try rig.connection.withTransaction { try CPS3Driver.verifyPIN(&$0, pin) }
        #expect(rig.card.state.pin.triesLeft == 3)
    }

    @Test("three wrong PINs block; the right PIN is then refused as blocked; the PUK unblocks")
    func blockAndUnblock() throws {
        let rig = try InProcessCard()
        for expected in [2, 1, 0] {
            var bytes: [UInt8] = [0x30, 0x30, 0x30, 0x30]
            let pin = SecretBytes(consuming: &bytes)
            let error = #expect(throws: IASECCError.self) {
                try rig.connection.withTransaction { try CPS3Driver.verifyPIN(&$0, pin) }
            }
            #expect(error?.triesLeft == expected)
            #expect(error?.code == (expected == 0 ? .blocked : .wrongPIN))
        }
        var right = TestCards.pin
        let pin = SecretBytes(consuming: &right)
        #expect(throws: IASECCError(.blocked, "")) {
            try rig.connection.withTransaction { try CPS3Driver.verifyPIN(&$0, pin) }
        }
        var pukBytes = TestCards.puk
        var newBytes: [UInt8] = [0x35, 0x36, 0x37, 0x38]
        let puk = SecretBytes(consuming: &pukBytes)
        let newPIN = SecretBytes(consuming: &newBytes)
        let unblocksBefore = rig.card.state.unblocksLeft
        try rig.connection.withTransaction { try CPS3Driver.unblockPIN(&$0, puk: puk, newPIN: newPIN) }
        #expect(rig.card.state.pin.triesLeft == 3)
        #expect(rig.card.state.unblocksLeft == unblocksBefore - 1)
        try rig.connection.withTransaction { try CPS3Driver.verifyPIN(&$0, newPIN) }
    }

    @Test("a wrong PUK costs a PUK try and leaves the PIN alone; three block the PUK")
    func blockedPUK() throws {
        let rig = try InProcessCard()
        var newBytes: [UInt8] = [0x35, 0x36, 0x37, 0x38]
        let newPIN = SecretBytes(consuming: &newBytes)
        for expected in [2, 1, 0] {
            var bytes: [UInt8] = [0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30]
            let puk = SecretBytes(consuming: &bytes)
            let error = #expect(throws: IASECCError.self) {
                try rig.connection.withTransaction { try CPS3Driver.unblockPIN(&$0, puk: puk, newPIN: newPIN) }
            }
            #expect(error?.triesLeft == expected)
        }
        #expect(rig.card.state.puk.triesLeft == 0)
        let status = try rig.connection.withTransaction { try CPS3Driver.readPINStatus(&$0) }
        #expect(status.puk.isBlocked && !status.pin.isBlocked)
    }

    @Test("badly formed PINs are refused before the card sees them", arguments: [
        [0x31, 0x32, 0x33] as [UInt8], [0x31, 0x32, 0x33, 0x34, 0x35], [0x31, 0x32, 0x33, 0x41],
    ])
    func format(bytes: [UInt8]) throws {
        let rig = try InProcessCard()
        var copy = bytes
        let pin = SecretBytes(consuming: &copy)
        let (_, exchanges) = try rig.counting { session in
            #expect(throws: IASECCError(.invalidPINFormat, "")) { try CPS3Driver.verifyPIN(&session, pin) }
        }
        #expect(exchanges == 0)
        #expect(rig.card.state.pin.triesLeft == 3)
    }

    @Test("change PIN, then the old one is wrong and the new one right")
    func changePIN() throws {
        let rig = try InProcessCard()
        var oldBytes = TestCards.pin
        var newBytes: [UInt8] = [0x34, 0x33, 0x32, 0x31]
        let old = SecretBytes(consuming: &oldBytes)
        let new = SecretBytes(consuming: &newBytes)
        try rig.connection.withTransaction { try CPS3Driver.changePIN(&$0, old: old, new: new) }
        #expect(rig.card.state.pin.value == [0x34, 0x33, 0x32, 0x31])
        try rig.connection.withTransaction { try CPS3Driver.verifyPIN(&$0, new) }
    }

    @Test("signing needs the PIN (6982 → pinRequired)")
    func signingNeedsPIN() throws {
        let rig = try InProcessCard()
        #expect(throws: IASECCError(.pinRequired, "")) {
            try rig.connection.withTransaction { try CPS3Driver.signWithAuthenticationKey(&$0, input: [1, 2, 3]) }
        }
    }

    @Test("the input limit of INTERNAL AUTHENTICATE is enforced before the card sees it")
    func inputLimit() throws {
        let rig = try InProcessCard()
        let (_, exchanges) = try rig.counting { session in
            #expect(throws: IASECCError(.inputTooLong, "")) {
                try CPS3Driver.signWithAuthenticationKey(&session, input: [UInt8](repeating: 1, count: 103))
            }
        }
        #expect(exchanges == 0)
    }

    @Test("GET CHALLENGE returns fresh random bytes")
    func challenge() throws {
        let rig = try InProcessCard()
        let (first, second) = try rig.connection.withTransaction { session in
            (try CPS3Driver.getChallenge(&session), try CPS3Driver.getChallenge(&session))
        }
        #expect(first.count == 8 && first != second)
    }
}

@Suite("Recovery after another process reset the card")
struct RecoveryTests {
    @Test("the reset is reported, the operation reconnects and runs again, and succeeds")
    func resetByAnotherConnection() throws {
        let rig = try InProcessCard()
        _ = try rig.connection.withTransaction { try CPS3Driver.readPINStatus(&$0) }
        let other = try rig.backend.connect(to: InProcessCard.readerName)
        try other.reconnect(.reset)
        // Like PC/SC, the reset shows on the next call of this connection (here: beginning the transaction).
        #expect(throws: CardError(.cardReset, "")) {
            try rig.connection.withTransaction { try CPS3Driver.readPINStatus(&$0) }
        }
        let (signature, runs) = try { () throws -> ([UInt8], Int) in
            var runs = 0
            try other.reconnect(.reset)
            let signature = try CPS3Driver.perform(on: rig.connection) { session in
                runs += 1
                var bytes = TestCards.pin
                let pin = SecretBytes(consuming: &bytes)
                try CPS3Driver.verifyPIN(&session, pin)
                return try CPS3Driver.signWithAuthenticationKey(&session, input: [1, 2, 3])
            }
            return (signature, runs)
        }()
        #expect(signature.count == 256)
        #expect(runs == 1, "the reset was caught before the body ran, and the body ran once after reconnecting")
        #expect(rig.card.state.pin.triesLeft == 3)
    }

    @Test("a wrong PIN is not retried by the recovery")
    func wrongPINNotRetried() throws {
        let rig = try InProcessCard()
        var runs = 0
        #expect(throws: IASECCError(.wrongPIN, "")) {
            try CPS3Driver.perform(on: rig.connection) { session in
                runs += 1
                var bytes: [UInt8] = [0x30, 0x30, 0x30, 0x30]
                let pin = SecretBytes(consuming: &bytes)
                try CPS3Driver.verifyPIN(&session, pin)
            }
        }
        #expect(runs == 1)
        #expect(rig.card.state.pin.triesLeft == 2)
    }
}
