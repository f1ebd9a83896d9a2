/// Parsers for what a CPS4 answers outside PKCS#15 proper: EF.SN.ICC, EF.DIR and the FCI of a SELECT
/// (cps4-card.md §3, §4). Each takes card bytes and fails with `ASN1Error`, never a crash.
enum ChipDocFiles {
    /// EF.SN.ICC: `5A 0A <BCD PAN>`; the PAN must start with the ANS prefix `80 25 00 00 01`, as Cryptolib
    /// checks before it accepts the card.
    static func pan(_ content: [UInt8]) throws(ASN1Error) -> [UInt8] {
        guard let element = try BERElement.sequence(content[...]).first, element.tag == 0x5A,
            element.value.count >= 6
        else { throw ASN1Error(.missingField, "EF.SN.ICC does not hold a PAN (tag 5A)") }
        guard element.value.starts(with: [0x80, 0x25, 0x00, 0x00, 0x01]) else {
            throw ASN1Error(.invalidValue, "the PAN does not start with the ANS issuer 8025000001")
        }
        return Array(element.value)
    }

    /// The path of application `aid` in EF.DIR: records `61 { 4F AID, 50 label?, 51 path }`.
    static func applicationPath(in content: [UInt8], aid: [UInt8]) throws(ASN1Error) -> [UInt8] {
        for record in try BERElement.sequence(content[...]) where record.tag == 0x61 {
            let fields = try record.children()
            guard fields.contains(where: { $0.tag == 0x4F && Array($0.value) == aid }) else { continue }
            guard let path = fields.first(where: { $0.tag == 0x51 }), !path.value.isEmpty, path.value.count % 2 == 0
            else { throw ASN1Error(.missingField, "EF.DIR gives no path for the PKCS#15 application") }
            return Array(path.value)
        }
        throw ASN1Error(.missingField, "EF.DIR has no record for the PKCS#15 application")
    }

    /// A PKCS#15 path as the ISO SELECT by path from the MF wants it: without 3F00. A bare FID is
    /// relative to the application's DF.
    static func pathAfterMF(_ path: [UInt8], application: [UInt8]) -> [UInt8] {
        let masterFile: [UInt8] = [0x3F, 0x00]
        if path.starts(with: masterFile) { return Array(path.dropFirst(2)) }
        if path.count == 2 {
            let base = application.starts(with: masterFile) ? Array(application.dropFirst(2)) : application
            return base + path
        }
        return path
    }

    /// The size of the selected EF from its FCI (`6F`) or FCP (`62`): tag 80 (data bytes) or else 81.
    /// Nil when the answer carries no size.
    static func fileSize(_ answer: [UInt8]) throws(ASN1Error) -> Int? {
        guard let template = try BERElement.sequence(answer[...]).first else { return nil }
        guard template.tag == 0x6F || template.tag == 0x62 else {
            throw ASN1Error(.unexpectedTag, "SELECT answered \(template.tagText), not an FCI")
        }
        let fields = try template.children()
        guard let size = fields.first(where: { $0.tag == 0x80 }) ?? fields.first(where: { $0.tag == 0x81 }) else {
            return nil
        }
        guard (1...4).contains(size.value.count) else { throw ASN1Error(.invalidValue, "file size of \(size.value.count) bytes") }
        return size.value.reduce(0) { $0 << 8 | Int($1) }
    }
}
