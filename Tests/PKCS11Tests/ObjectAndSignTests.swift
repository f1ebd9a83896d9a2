import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import Synchronization
import Testing
import VirtualCard
import _CryptoExtras

@Suite("PKCS11Connection: objects, attributes, signatures")
struct ObjectAndSignTests {
    @Test func privateObjectsAreHiddenBeforeLogin() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            let publicObjects = try fixture.find(session, [])
            #expect(publicObjects.count == 4 + fixture.publicDataObjectCount)
            #expect(try fixture.find(session, [.init(type: .class, value: AttributeValue.ulong(CKO.privateKey))]).isEmpty)
            try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.pin))
            let all = try fixture.find(session, [])
            #expect(all.count == 6 + fixture.dataObjects.count)
            #expect(Set(publicObjects).isSubset(of: Set(all)))
            // Handles are stable for the card.
            try fixture.connection.logout(session: session)
            #expect(try fixture.find(session, []) == publicObjects)
        }
    }

    @Test func findTemplates() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let privateKeys = try fixture.find(session, [.init(type: .class, value: AttributeValue.ulong(CKO.privateKey))])
            #expect(privateKeys.count == 2)
            let signKey = try fixture.object(session, label: "CPS_PRIV_SIG", objectClass: CKO.privateKey)
            let id = try fixture.value(session, signKey, .id)
            let sameID = try fixture.find(session, [.init(type: .id, value: id)])
            #expect(sameID.count == 3)
            #expect(try fixture.find(session, [.init(type: .sign, value: [1])]).count == 2)
            #expect(try fixture.find(session, [.init(type: .decrypt, value: [1])]).count == 1)
            #expect(try fixture.find(session, [.init(type: .keyType, value: AttributeValue.ulong(CKK.rsa))]).count == 4)
            #expect(
                try fixture.find(session, [.init(type: .token, value: [1]), .init(type: .private, value: [0])]).count
                    == 4 + fixture.publicDataObjectCount)
            #expect(try fixture.find(session, [.init(type: .label, value: Array("nothing".utf8))]).isEmpty)
            // Chunks, then the operation rules.
            try fixture.connection.findObjectsInit(session: session, template: [])
            #expect(throws: PKCS11Error(.operationActive)) {
                try fixture.connection.findObjectsInit(session: session, template: [])
            }
            // Every object once, in chunks of at most 4 (the card's data objects come with the keys).
            let total = 6 + fixture.dataObjects.count
            var chunks: [Int] = []
            while chunks.count <= total {
                let chunk = try fixture.connection.findObjects(session: session, maxCount: 4)
                if chunk.isEmpty { break }
                chunks.append(chunk.count)
            }
            #expect(chunks == Array(repeating: 4, count: total / 4) + (total % 4 == 0 ? [] : [total % 4]))
            #expect(try fixture.connection.findObjects(session: session, maxCount: 4).isEmpty)
            try fixture.connection.findObjectsFinal(session: session)
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.findObjects(session: session, maxCount: 1)
            }
        }
    }

    @Test func getAttributeValueSemantics() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let key = try fixture.object(session, label: "CPS_PRIV_AUT", objectClass: CKO.privateKey)
            let label = Array("CPS_PRIV_AUT".utf8)
            let results = try fixture.connection.attributeValues(
                session: session, object: key,
                requests: [
                    .init(type: .label, capacity: nil), .init(type: .label, capacity: 3), .init(type: .label, capacity: 64),
                    .init(type: .privateExponent, capacity: 256), .init(type: CKA(rawValue: 0x8000_1234), capacity: 8),
                    .init(type: .sign, capacity: 1), .init(type: .alwaysAuthenticate, capacity: 1),
                ])
            #expect(
                results == [
                    .length(label.count), .bufferTooSmall, .value(label), .sensitive, .invalidType, .value([1]),
                    .value([0]),
                ])
            #expect(results.returnValue == .attributeSensitive)
            #expect([AttributeResult.invalidType, .bufferTooSmall].returnValue == .attributeTypeInvalid)
            #expect([AttributeResult.value([1]), .bufferTooSmall].returnValue == .bufferTooSmall)
            #expect([AttributeResult.value([1]), .length(3)].returnValue == .ok)
            #expect(try fixture.value(session, key, .class) == AttributeValue.ulong(CKO.privateKey))
            #expect(try fixture.value(session, key, .extractable) == [0])
            #expect(try fixture.value(session, key, .sensitive) == [1])
            #expect(throws: PKCS11Error(.objectHandleInvalid)) {
                try fixture.connection.attributeValues(session: session, object: 0xDEAD, requests: [])
            }
        }
    }

    @Test func certificateAndPublicKeyMatchTheCard() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            let certificate = try fixture.object(session, label: Fixture.authCertificate, objectClass: CKO.certificate)
            #expect(
                try fixture.value(session, certificate, .value) == fixture.cards.card?.state.authenticationCertificateDER)
            #expect(try fixture.value(session, certificate, .serialNumber).first == 0x02)
            #expect(try fixture.value(session, certificate, .subject).first == 0x30)
            #expect(try fixture.value(session, certificate, .certificateCategory) == AttributeValue.ulong(1))
            let publicKey = try fixture.publicKeyObject(session, .authentication)
            let fromAttributes = try _RSA.Signing.PublicKey(
                n: fixture.value(session, publicKey, .modulus), e: fixture.value(session, publicKey, .publicExponent))
            let fromCertificate = try fixture.certificateKey(session, certificateLabel: Fixture.authCertificate)
            #expect(fromAttributes.derRepresentation == fromCertificate.derRepresentation)
            #expect(try fixture.value(session, publicKey, .id) == fixture.value(session, certificate, .id))
            // Hidden before login: a private key handle does not answer.
            try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.pin))
            let privateKey = try fixture.object(session, label: "CPS_PRIV_AUT", objectClass: CKO.privateKey)
            try fixture.connection.logout(session: session)
            #expect(throws: PKCS11Error(.objectHandleInvalid)) {
                try fixture.connection.attributeValues(session: session, object: privateKey, requests: [])
            }
            #expect(throws: PKCS11Error(.userNotLoggedIn)) {
                try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: privateKey)
            }
        }
    }

    @Test(arguments: [CKM.rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS])
    func signSingleAndMultiPartWithTheSignatureKey(mechanism: CKM) async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let key = try fixture.object(session, label: "CPS_PRIV_SIG", objectClass: CKO.privateKey)
            let publicKey = try fixture.certificateKey(session, certificateLabel: Fixture.signCertificate)
            let message = Array(repeating: UInt8(0x61), count: 150) + Array("cpsd".utf8)
            let input = mechanism == .rsaPKCS ? Fixture.digestInfoSHA256(message) : message
            let single = try fixture.sign(session, key: key, mechanism, input)
            try fixture.connection.signInit(session: session, mechanism: Mechanism(type: mechanism), key: key)
            for part in stride(from: 0, to: input.count, by: 40) {
                try fixture.connection.signUpdate(session: session, part: Array(input[part..<min(part + 40, input.count)]))
            }
            #expect(try fixture.connection.signFinal(session: session, capacity: 100) == .bufferTooSmall(256))
            guard case .value(let multi) = try fixture.connection.signFinal(session: session, capacity: 512) else {
                Issue.record("no multi-part signature")
                return
            }
            for signature in [single, multi] {
                let valid =
                    mechanism == .sha1RSAPKCS
                    ? publicKey.verifies(signature, sha1: message) : publicKey.verifies(signature, sha256: message)
                #expect(valid)
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.signFinal(session: session, capacity: 256)
            }
        }
    }

    @Test func authenticationKeySignsRSAPKCSOnly() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let key = try fixture.object(session, label: "CPS_PRIV_AUT", objectClass: CKO.privateKey)
            let publicKey = try fixture.certificateKey(session, certificateLabel: Fixture.authCertificate)
            let message = Array("TLS 1.2 handshake".utf8)
            let signature = try fixture.sign(session, key: key, .rsaPKCS, Fixture.digestInfoSHA256(message))
            #expect(publicKey.verifies(signature, sha256: message))
            for mechanism in [CKM.sha256RSAPKCS, .sha1RSAPKCS] {
                #expect(throws: PKCS11Error(.keyTypeInconsistent)) {
                    try fixture.connection.signInit(session: session, mechanism: Mechanism(type: mechanism), key: key)
                }
            }
            // Multi-part CKM_RSA_PKCS is buffered too.
            try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            let input = Fixture.digestInfoSHA256(message)
            try fixture.connection.signUpdate(session: session, part: Array(input.prefix(10)))
            try fixture.connection.signUpdate(session: session, part: Array(input.dropFirst(10)))
            guard case .value(let multi) = try fixture.connection.signFinal(session: session, capacity: 256) else {
                Issue.record("no signature")
                return
            }
            #expect(publicKey.verifies(multi, sha256: message))
        }
    }

    @Test func signOperationRules() async throws {
        try await onThread {
            let fixture = try Fixture()
            let audits = Mutex<[SignAudit]>([])
            fixture.connection.audit = { audit in audits.withLock { $0.append(audit) } }
            let session = try fixture.loggedInSession()
            let key = try fixture.object(session, label: "CPS_PRIV_SIG", objectClass: CKO.privateKey)
            let publicKey = try fixture.publicKeyObject(session, .signature)
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.sign(session: session, data: [1], capacity: 256)
            }
            #expect(throws: PKCS11Error(.mechanismInvalid)) {
                try fixture.connection.signInit(session: session, mechanism: Mechanism(type: CKM(rawValue: 0x0D)), key: key)
            }
            #expect(throws: PKCS11Error(.mechanismParamInvalid)) {
                try fixture.connection.signInit(
                    session: session, mechanism: Mechanism(type: .rsaPKCS, parameter: [1]), key: key)
            }
            // Cryptolib answers CKR_KEY_TYPE_INCONSISTENT to a key that cannot sign (ANS row 608).
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) {
                try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: publicKey)
            }
            #expect(throws: PKCS11Error(.keyHandleInvalid)) {
                try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: 0xBAD)
            }
            try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            #expect(throws: PKCS11Error(.operationActive)) {
                try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            }
            #expect(try fixture.connection.sign(session: session, data: [1, 2], capacity: nil) == .length(256))
            #expect(try fixture.connection.sign(session: session, data: [1, 2], capacity: 255) == .bufferTooSmall(256))
            #expect(audits.withLock { $0.isEmpty })
            guard case .value = try fixture.connection.sign(session: session, data: [1, 2], capacity: 256) else {
                Issue.record("no signature")
                return
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.sign(session: session, data: [1], capacity: 256)
            }
            // A card refusal ends the operation too: the signature key takes a digest with CKM_RSA_PKCS.
            try fixture.connection.signInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            #expect(throws: PKCS11Error(.dataInvalid)) {
                try fixture.connection.sign(session: session, data: [1, 2, 3], capacity: 256)
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.sign(session: session, data: [1], capacity: 256)
            }
            let recorded = audits.withLock { $0 }
            #expect(recorded.map(\.result) == [.ok, .dataInvalid])
            #expect(recorded.allSatisfy { $0.keyLabel == "CPS_PRIV_SIG" && $0.client == ClientID(1) })
            #expect(recorded.map(\.mechanism) == [.sha256RSAPKCS, .rsaPKCS])
        }
    }

    @Test func twoConnectionsKeepTheirLoginApart() async throws {
        try await onThread {
            let first = try Fixture()
            let second = try Fixture(cards: first.cards, client: 2)
            let firstSession = try first.loggedInSession()
            // C_Login verifies once and resets the card at once: nobody finds it verified (DESIGN decision 3).
            #expect(first.cards.verifyCount == 1)
            #expect(try !first.cards.isCardVerified)
            let secondSession = try second.open()
            #expect(try second.connection.sessionInfo(secondSession).state == CKS.roPublic)
            #expect(try second.find(secondSession, []).count == 4 + second.publicDataObjectCount)
            let firstKey = try first.object(firstSession, label: "CPS_PRIV_SIG", objectClass: CKO.privateKey)
            #expect(throws: PKCS11Error(.userNotLoggedIn)) {
                try second.connection.signInit(session: secondSession, mechanism: Mechanism(type: .rsaPKCS), key: firstKey)
            }
            #expect(first.cards.verifyCount == 1, "the refused client sent nothing to the card")
            // Each operation verifies the kept PIN again inside its own transaction, then resets the card.
            _ = try first.sign(firstSession, key: firstKey, .sha256RSAPKCS, [1, 2, 3])
            #expect(first.cards.verifyCount == 2)
            #expect(try !first.cards.isCardVerified)
            try second.connection.login(session: secondSession, userType: .user, pin: Fixture.secret(Fixture.pin))
            _ = try second.sign(secondSession, key: firstKey, .sha256RSAPKCS, [4])
            #expect(first.cards.verifyCount == 4)
            #expect(try !first.cards.isCardVerified, "the second client's verification did not outlive its signature")
            // The first client's signature re-establishes its own verification: one VERIFY, and only one.
            _ = try first.sign(firstSession, key: firstKey, .sha256RSAPKCS, [5])
            #expect(first.cards.verifyCount == 5)
            #expect(try !first.cards.isCardVerified)
            // One client leaving does not log the other out.
            second.connection.close()
            #expect(try first.connection.sessionInfo(firstSession).state == CKS.roUser)
            #expect(throws: PKCS11Error(.cryptokiNotInitialized)) { try second.connection.sessionInfo(secondSession) }
        }
    }
}
