@testable import IASECC
import Testing

@Suite("Lenient BER reader")
struct BERReaderTests {
    @Test("nested elements, long-form lengths and multi-byte tags")
    func structure() throws {
        // BF 81 01 (multi-byte tag) with a long-form length that DER would have written short.
        let bytes: [UInt8] = [0x70, 0x08, 0xBF, 0x81, 0x01, 0x81, 0x03, 0x9A, 0x01, 0x03]
        let outer = try BERElement.single(bytes)
        #expect(outer.tag == 0x70)
        let inner = try outer.children()
        #expect(inner.map(\.tag) == [0xBF8101])
        #expect(try inner[0].children().first?.tag == 0x9A)
    }

    @Test("a BIT STRING's wrong unused-bits byte is ignored")
    func looseBitString() throws {
        // DER would say 0x07 unused bits for a single 0x80; the card says 0x00. Both read as bit 0.
        let loose = try BERElement.single([0x03, 0x02, 0x00, 0x80]).bits()
        let strict = try BERElement.single([0x03, 0x02, 0x07, 0x80]).bits()
        #expect(loose == [0] && strict == [0])
        #expect(try BERElement.single([0x03, 0x03, 0x06, 0x00, 0x40]).bits() == [9])
    }

    @Test("every truncation of a valid encoding is a typed error, never a crash")
    func dripFed() throws {
        let valid: [UInt8] = [0x30, 0x0B, 0x04, 0x02, 0x50, 0x31, 0xA0, 0x05, 0x30, 0x03, 0x04, 0x01, 0x07]
        _ = try BERElement.single(valid)
        for length in 0..<valid.count {
            #expect(throws: ASN1Error.self) { try BERElement.single(Array(valid.prefix(length))) }
        }
    }

    @Test("hostile headers are refused", arguments: [
        [0x30, 0x80, 0x00, 0x00] as [UInt8],          // indefinite length
        [0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00],   // 5-octet length
        [0x1F, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00],   // tag longer than 4 octets
        [0x04, 0x84, 0x7F, 0xFF, 0xFF, 0xFF],          // length far past the input
        [0x30, 0x00, 0x01],                            // trailing data
    ])
    func hostile(bytes: [UInt8]) {
        #expect(throws: ASN1Error.self) { try BERElement.single(bytes) }
    }

    @Test("random bytes never crash the parsers")
    func randomInput() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? PKCS15Parser.objectDirectory(bytes)
            _ = try? PKCS15Parser.tokenInfo(bytes)
            _ = try? PKCS15Parser.pinObjects(bytes)
            _ = try? PKCS15Parser.privateKeys(bytes)
            _ = try? PKCS15Parser.certificates(bytes)
            _ = try? DOCP.counters(bytes)
            _ = try? CertificateDER.trimmed(bytes)
        }
    }

    @Test("the real CPS3 DOCP answer gives 3 of 3 tries (cps3-card.md §7)")
    func docp() throws {
        let answer: [UInt8] = [
            0x70, 0x16, 0xBF, 0x81, 0x01, 0x12, 0xA0, 0x10, 0x9A, 0x01, 0x03, 0x9B, 0x01, 0x03, 0xA1, 0x08, 0x8C,
            0x06, 0xF3, 0x00, 0x00, 0x13, 0xFF, 0x00,
        ]
        #expect(try DOCP.counters(answer) == CredentialCounters(maxTries: 3, triesLeft: 3))
        #expect(throws: ASN1Error.self) { try DOCP.counters([0x70, 0x03, 0x9A, 0x01, 0x03]) }
    }

    @Test("certificate EF padding is cut and a non-zero unused-bits byte in the signature is zeroed")
    func certificateTrim() throws {
        // SEQUENCE { SEQUENCE {}, SEQUENCE {}, BIT STRING (unused 0x05) AA } followed by EF padding.
        let stored: [UInt8] = [0x30, 0x08, 0x30, 0x00, 0x30, 0x00, 0x03, 0x02, 0x05, 0xAA, 0x00, 0x00, 0xFF]
        #expect(try CertificateDER.trimmed(stored) == [0x30, 0x08, 0x30, 0x00, 0x30, 0x00, 0x03, 0x02, 0x00, 0xAA])
    }

    @Test("Cryptolib's serial drops the ANS prefix and the check byte (cps3-card.md §3.2)")
    func serial() {
        let pan: [UInt8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0x99, 0x21, 0x38, 0x45, 0x0F]
        #expect(CPS3Driver.serialNumber(fromPAN: pan) == "99213845")
    }
}
