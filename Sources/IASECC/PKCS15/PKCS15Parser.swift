/// Reads PKCS#15 directory files. Each function takes the EF content (padding allowed at the end)
/// and tolerates the CPS3 defects: no algorithm references in the PrKDF, loose BIT STRINGs.
package enum PKCS15Parser {
    /// EF.ODF: a list of `[n] Path` choices, tags A0 (private keys) … A8 (authentication objects).
    package static func objectDirectory(_ content: [UInt8]) throws(ASN1Error) -> ObjectDirectory {
        var directory = ObjectDirectory()
        for element in try BERElement.sequence(content[...]) {
            let path = try pathOf(element)
            switch element.tag {
            case 0xA0: directory.privateKeys.append(path)
            case 0xA4: directory.certificates.append(path)
            case 0xA7: directory.dataObjects.append(path)
            case 0xA8: directory.authObjects.append(path)
            default: continue  // public keys, secret keys, trusted certificates: not used by the driver
            }
        }
        return directory
    }

    /// EF.TokenInfo: SEQUENCE { version, serialNumber, manufacturerID?, label [0]?, tokenflags, ... }.
    package static func tokenInfo(_ content: [UInt8]) throws(ASN1Error) -> TokenInfo {
        let fields = try sequenceChildren(content, "TokenInfo")
        let flags = try fields.first(tag: BERTag.bitString)?.bits() ?? []
        return TokenInfo(
            version: try fields.required(tag: BERTag.integer, "TokenInfo.version").integer(),
            serialNumber: try fields.required(tag: BERTag.octetString, "TokenInfo.serialNumber").octets(),
            manufacturer: fields.first(tag: BERTag.utf8String)?.text(),
            label: fields.first(tag: 0x80)?.text(),
            readOnly: flags.contains(0),
            loginRequired: flags.contains(1))
    }

    /// EF.AODF: PIN objects `SEQUENCE { CommonObjectAttributes, CommonAuthenticationObjectAttributes,
    /// [1] { PinAttributes } }`.
    package static func pinObjects(_ content: [UInt8]) throws(ASN1Error) -> [PINObject] {
        try BERElement.sequence(content[...]).filter { $0.tag == BERTag.sequence }.map { (object) throws(ASN1Error) in
            let parts = try object.children()
            let common = try parts.required(tag: BERTag.sequence, "PIN common attributes").children()
            guard parts.count >= 2 else { throw ASN1Error(.missingField, "PIN authentication attributes") }
            let authID = try parts[1].children().required(tag: BERTag.octetString, "authId").octets()
            let typeAttributes = try parts.required(tag: 0xA1, "PIN type attributes").children()
            guard let attributes = try typeAttributes.first?.children() else {
                throw ASN1Error(.missingField, "PinAttributes")
            }
            let integers = try attributes.filter { $0.tag == BERTag.integer }.map { (element) throws(ASN1Error) in
                try element.integer()
            }
            guard integers.count >= 2 else { throw ASN1Error(.missingField, "PIN minLength/storedLength") }
            return PINObject(
                label: common.first(tag: BERTag.utf8String)?.text() ?? "",
                authID: authID,
                flags: try attributes.required(tag: BERTag.bitString, "pinFlags").bits(),
                pinType: try attributes.first(tag: BERTag.enumerated)?.integer() ?? 1,
                minLength: integers[0], storedLength: integers[1], maxLength: integers.count > 2 ? integers[2] : nil,
                reference: try attributes.first(tag: 0x80)?.referenceValue(),
                padChar: attributes.first(tag: BERTag.octetString)?.value.first)
        }
    }

    /// EF.PrKDF: RSA private keys `SEQUENCE { CommonObjectAttributes, CommonKeyAttributes, [0]?, [1] {
    /// PrivateRSAKeyAttributes } }`.
    package static func privateKeys(_ content: [UInt8]) throws(ASN1Error) -> [PrivateKeyObject] {
        try BERElement.sequence(content[...]).filter { $0.tag == BERTag.sequence }.map { (object) throws(ASN1Error) in
            let parts = try object.children()
            guard parts.count >= 2 else { throw ASN1Error(.missingField, "private key attributes") }
            let common = try parts[0].children()
            let keyAttributes = try parts[1].children()
            let rsa = try parts.first(tag: 0xA1)?.children().first?.children()
            return PrivateKeyObject(
                label: common.first(tag: BERTag.utf8String)?.text() ?? "",
                id: try keyAttributes.required(tag: BERTag.octetString, "key iD").octets(),
                usage: try keyAttributes.required(tag: BERTag.bitString, "key usage").bits(),
                keyReference: try keyAttributes.first(tag: BERTag.integer)?.referenceValue(),
                authID: common.first(tag: BERTag.octetString)?.octets(),
                modulusLength: try rsa?.first(tag: BERTag.integer)?.integer())
        }
    }

    /// EF.CDF: X.509 certificates `SEQUENCE { CommonObjectAttributes, CommonCertificateAttributes, [1] {
    /// X509CertificateAttributes { value Path, ... } } }`.
    package static func certificates(_ content: [UInt8]) throws(ASN1Error) -> [CertificateObject] {
        try BERElement.sequence(content[...]).filter { $0.tag == BERTag.sequence }.map { (object) throws(ASN1Error) in
            let parts = try object.children()
            guard parts.count >= 2 else { throw ASN1Error(.missingField, "certificate attributes") }
            let common = try parts[0].children()
            let certificateAttributes = try parts[1].children()
            guard let x509 = try parts.required(tag: 0xA1, "certificate type attributes").children().first else {
                throw ASN1Error(.missingField, "X509CertificateAttributes")
            }
            guard let value = try x509.children().first else { throw ASN1Error(.missingField, "certificate path") }
            return CertificateObject(
                label: common.first(tag: BERTag.utf8String)?.text() ?? "",
                id: try certificateAttributes.required(tag: BERTag.octetString, "certificate iD").octets(),
                authority: try certificateAttributes.first(tag: BERTag.boolean)?.boolean() ?? false,
                path: try pathValue(value))
        }
    }

    // MARK: - Paths

    /// `[n] Path` in the ODF: the context element wraps a Path SEQUENCE (or, leniently, the OCTET STRING).
    private static func pathOf(_ element: BERElement) throws(ASN1Error) -> [UInt8] {
        guard let inner = try element.children().first else { throw ASN1Error(.missingField, "ODF path") }
        return try pathValue(inner)
    }

    /// A Path: `SEQUENCE { path OCTET STRING, index?, length? }`, or a bare OCTET STRING.
    private static func pathValue(_ element: BERElement) throws(ASN1Error) -> [UInt8] {
        if element.tag == BERTag.octetString { return element.octets() }
        guard element.tag == BERTag.sequence else { throw ASN1Error(.unexpectedTag, "path is \(element.tagText)") }
        let path = try element.children().required(tag: BERTag.octetString, "path").octets()
        guard !path.isEmpty, path.count % 2 == 0 else { throw ASN1Error(.invalidValue, "path of \(path.count) bytes") }
        return path
    }

    private static func sequenceChildren(_ content: [UInt8], _ what: String) throws(ASN1Error) -> [BERElement] {
        guard let first = try BERElement.sequence(content[...]).first, first.tag == BERTag.sequence else {
            throw ASN1Error(.unexpectedTag, "\(what) is not a SEQUENCE")
        }
        return try first.children()
    }
}
