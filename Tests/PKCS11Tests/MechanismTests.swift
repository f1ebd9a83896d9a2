import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// What each card generation offers, per key: lists, infos, key attributes and C_SignInit's refusals.
@Suite("PKCS11Connection: mechanisms per card generation")
struct MechanismTests {
    @Test func cps3OffersPKCS1AndDecryptionOnly() async throws {
        try await onThread {
            let fixture = try Fixture()
            #expect(
            try fixture.connection.mechanismList(fixture.slot) == [.sha1, .sha256, .rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS])
            let info = { (type: CKM) throws in try fixture.connection.mechanismInfo(fixture.slot, type) }
            #expect(
                try info(.rsaPKCS)
                    == MechanismInfo(
                    minKeySize: 512, maxKeySize: 2048,
                    flags: CKF.hw | CKF.signFlag | CKF.decryptFlag | CKF.verifyFlag | CKF.encryptFlag))
            // Hashed on the host first: no CKF_HW, as in Cryptolib's list.
            #expect(try info(.sha1RSAPKCS) == MechanismInfo(minKeySize: 512, maxKeySize: 2048, flags: CKF.signFlag | CKF.verifyFlag))
            for absent in [CKM.rsaX509, .rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS] {
                #expect(throws: PKCS11Error(.mechanismInvalid)) { try info(absent) }
            }
        }
    }

    @Test func cps4OffersPSSRawRSAAndBothDecryptions() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            #expect(
                try fixture.connection.mechanismList(fixture.slot) == [
                    .sha1, .sha256, .rsaX509, .rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS, .rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS,
                ])
            let info = { (type: CKM) throws in try fixture.connection.mechanismInfo(fixture.slot, type).flags }
            let signAndDecrypt = CKF.hw | CKF.signFlag | CKF.decryptFlag | CKF.verifyFlag
            #expect(try info(.rsaX509) == signAndDecrypt)
            #expect(try info(.rsaPKCS) == signAndDecrypt | CKF.encryptFlag)
            #expect(try info(.rsaPKCSPSS) == CKF.hw | CKF.signFlag | CKF.verifyFlag)
            for hashed in [CKM.sha256RSAPKCS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS] {
                #expect(try info(hashed) == CKF.signFlag | CKF.verifyFlag)
            }
            #expect(try fixture.connection.mechanismInfo(fixture.slot, .rsaPKCS).minKeySize == 2048)
            #expect(throws: PKCS11Error(.mechanismInvalid)) { try info(CKM(rawValue: 0x9)) }
            #expect(try fixture.connection.tokenInfo(fixture.slot).label.hasPrefix("CPS4v1-"))
        }
    }

    @Test(arguments: CardGeneration.allCases)
    func keyAttributesFollowTheCapabilities(generation: CardGeneration) async throws {
        try await onThread {
            let fixture = try Fixture.of(generation)
            let session = try fixture.loggedInSession()
            let auth = try fixture.privateKey(session, .authentication)
            let sign = try fixture.privateKey(session, .signature)
            #expect(try fixture.value(session, auth, .decrypt) == [1])
            #expect(try fixture.value(session, sign, .decrypt) == [0])
            #expect(try fixture.value(session, sign, .sign) == [1])
            #expect(try fixture.value(session, auth, .local) == [1])
            #expect(try fixture.value(session, sign, .verify) == [0])
            // No CKA_ALLOWED_MECHANISMS (Cryptolib has none; p11-kit's RPC cannot carry its size query):
            // C_SignInit says what each key does instead.
            let results = try fixture.connection.attributeValues(
                session: session, object: sign, requests: [AttributeRequest(type: .allowedMechanisms, capacity: 64)])
            #expect(results == [.invalidType])
            // Each C_SignInit in a session of its own (the login is the slot's), closed at once.
            let signs = { (key: UInt, type: CKM) throws -> Bool in
                let parameter: [UInt8]? =
                    switch type {
                    case .sha1RSAPKCSPSS: Fixture.pssSHA1
                    case .rsaPKCSPSS, .sha256RSAPKCSPSS: Fixture.pssSHA256
                    default: nil
                    }
                let probe = try fixture.connection.openSession(slot: fixture.slot, flags: CKF.serialSession)
                defer { _ = try? fixture.connection.closeSession(probe) }
                return (try? fixture.connection.signInit(
                    session: probe, mechanism: Mechanism(type: type, parameter: parameter), key: key)) != nil
            }
            let offered = try fixture.connection.mechanismList(fixture.slot).filter { $0 != .sha1 && $0 != .sha256 }
            let authentication: [CKM] = generation == .cps3 ? [.rsaPKCS] : offered
            let signature: [CKM] =
                generation == .cps3
                ? [.rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS]
                : [.rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS, .rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS]
            #expect(try offered.filter { try signs(auth, $0) } == authentication)
            #expect(try offered.filter { try signs(sign, $0) } == signature)
        }
    }

    @Test func cps3RefusesWhatItsKeysCannotDo() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let auth = try fixture.privateKey(session, .authentication)
            let signInit = { (mechanism: Mechanism) throws in
                try fixture.connection.signInit(session: session, mechanism: mechanism, key: auth)
            }
            // Another key of the token signs with it (ANS 608), or none does (ANS 607).
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) { try signInit(Mechanism(type: .sha1RSAPKCS)) }
            #expect(throws: PKCS11Error(.mechanismInvalid)) { try signInit(Mechanism(type: .rsaX509)) }
            #expect(throws: PKCS11Error(.mechanismInvalid)) {
                try signInit(Mechanism(type: .sha256RSAPKCSPSS, parameter: Fixture.pssSHA256))
            }
        }
    }

    @Test func cps4SignInitChecksKeysAndPSSParameters() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let auth = try fixture.privateKey(session, .authentication)
            let sign = try fixture.privateKey(session, .signature)
            let signInit = { (mechanism: Mechanism, key: UInt) throws in
                try fixture.connection.signInit(session: session, mechanism: mechanism, key: key)
            }
            // Raw RSA is the authentication key's only.
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) { try signInit(Mechanism(type: .rsaX509), sign) }
            let refused: [(CKM, [UInt8]?)] = [
                (.rsaPKCSPSS, nil),
                (.rsaPKCSPSS, Array(Fixture.pssSHA256.prefix(16))),
                (.rsaPKCSPSS, Fixture.pssParameters(hash: CKM(rawValue: 0x210), mgf: 1, saltLength: 16)),  // MD5
                (.rsaPKCSPSS, Fixture.pssParameters(hash: .sha256, mgf: CKG.mgf1SHA1, saltLength: 32)),
                (.rsaPKCSPSS, Fixture.pssParameters(hash: .sha256, mgf: CKG.mgf1SHA256, saltLength: 0)),
                (.sha1RSAPKCSPSS, Fixture.pssSHA256),
                (.sha256RSAPKCSPSS, Fixture.pssSHA1),
                (.sha256RSAPKCSPSS, Fixture.pssParameters(hash: .sha256, mgf: CKG.mgf1SHA256, saltLength: 20)),
                (.rsaPKCS, [0]),
            ]
            for (type, parameter) in refused {
                #expect(throws: PKCS11Error(.mechanismParamInvalid), "\(type) \(parameter ?? [])") {
                    try signInit(Mechanism(type: type, parameter: parameter), auth)
                }
            }
            // Accepted on both keys; each operation is then ended by a C_Sign (refused or made, either ends it).
            let accepted: [(CKM, [UInt8])] = [
                (.rsaPKCSPSS, Fixture.pssSHA256), (.rsaPKCSPSS, Fixture.pssSHA1), (.sha1RSAPKCSPSS, Fixture.pssSHA1),
                (.sha256RSAPKCSPSS, Fixture.pssSHA256),
            ]
            for key in [auth, sign] {
                for (type, parameter) in accepted {
                    try signInit(Mechanism(type: type, parameter: parameter), key)
                    _ = try? fixture.connection.sign(session: session, data: [], capacity: 256)
                }
            }
        }
    }
}
