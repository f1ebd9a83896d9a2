import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import SwiftASN1
import Testing
import VirtualCard
import _CryptoExtras

/// Public-key objects as Cryptolib shows them (cryptolib-pkcs11.md §5.2; ANS 316–318 find them by CKA_ID).
@Suite("PKCS11Connection: public-key objects")
struct PublicKeyObjectTests {
    @Test(arguments: CardGeneration.allCases)
    func attributesAreCryptolibs(generation: CardGeneration) async throws {
        try await onThread {
            let fixture = try Fixture.of(generation)
            let session = try fixture.open()
            for role in KeyRole.allCases {
                let key = try SoftwareCryptoTests.publicKeyHandle(fixture, session, role)
                let certificateLabel = role == .authentication ? Fixture.authCertificate : Fixture.signCertificate
                // The label's NUL is counted in ulValueLen.
                #expect(try fixture.value(session, key, .label) == Array(("Cle publique - " + certificateLabel).utf8) + [0])
                for type in [CKA.token, .local, .sensitive, .alwaysSensitive, .neverExtractable, .encrypt, .verify, .verifyRecover] {
                    #expect(try fixture.value(session, key, type) == [1], "\(type)")
                }
                for type in [CKA.private, .modifiable, .extractable, .wrap, .derive] {
                    #expect(try fixture.value(session, key, type) == [0], "\(type)")
                }
                #expect(try fixture.value(session, key, .modulusBits) == AttributeValue.ulong(2048))
                // CKA_VALUE is the PKCS#1 RSAPublicKey of the certificate's key.
                let certificateKey = try fixture.publicKey(session, role)
                let der = try fixture.value(session, key, .value)
                let parsed = try _RSA.Signing.PublicKey(derRepresentation: der)
                #expect(parsed.derRepresentation == certificateKey.derRepresentation)
                #expect(try DER.parse(der).identifier == .sequence)
                // Same CKA_ID as the certificate, found by it (ANS 316–317).
                let id = try fixture.value(session, key, .id)
                let found = try fixture.find(session, [.init(type: .class, value: AttributeValue.ulong(CKO.publicKey)), .init(type: .id, value: id)])
                #expect(found == [key])
                let unsupported = try fixture.connection.attributeValues(
                    session: session, object: key, requests: [AttributeRequest(type: .subject, capacity: 1024)])
                #expect(unsupported.first == .invalidType)
            }
        }
    }
}
