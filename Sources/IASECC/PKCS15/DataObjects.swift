/// The CPS business data objects (cryptolib-pkcs11.md §6): the DODF's opaque data objects, and on CPS3 the
/// ones Cryptolib synthesizes from the CPS2ter application. Values are the card's bytes as stored ("ASN.1",
/// never decoded: §6.2); nil until read (PIN-protected objects are read right after a login's VERIFY).
package struct CardDataObject: Hashable, Sendable {
    /// Where the object's bytes live, already resolved for the driver that found it.
    package enum Location: Hashable, Sendable {
        /// A file of the PKCS#15 application: on CPS3 the full path from 3F00 (SELECT P1=09), on CPS4 the
        /// ISO path after the MF (SELECT P1=08, channel 1).
        case file([UInt8])
        /// A CPS2ter file on a CPS3, reached by SELECT FID after FID with CLA A0 (e.g. `7F01 4000`).
        case cps2ter([[UInt8]])
    }

    package var label: String
    /// CKA_APPLICATION: the DODF's applicationName, "CPS" for the synthesized objects.
    package var applicationName: String
    /// CKA_OBJECT_ID: the DODF's applicationOID as a DER OBJECT IDENTIFIER, when there is one.
    package var objectID: [UInt8]?
    /// PKCS#15 private flag: read only once the PIN is verified, shown only to a logged-in client.
    package var isPrivate: Bool
    /// PKCS#15 modifiable flag: CPS_DATA alone on ANS's cards.
    package var isModifiable: Bool
    package var location: Location
    package var value: [UInt8]?

    package init(
        label: String, applicationName: String, objectID: [UInt8]? = nil, isPrivate: Bool, isModifiable: Bool,
        location: Location, value: [UInt8]? = nil
    ) {
        self.label = label
        self.applicationName = applicationName
        self.objectID = objectID
        self.isPrivate = isPrivate
        self.isModifiable = isModifiable
        self.location = location
        self.value = value
    }
}

/// A DODF entry before its path is resolved against a card generation's way of selecting files.
package struct DODFEntry: Hashable, Sendable {
    package var label: String
    package var applicationName: String?
    package var objectID: [UInt8]?
    package var isPrivate: Bool
    package var isModifiable: Bool
    /// The PKCS#15 path: absolute from 3F00, or a FID relative to the application DF.
    package var path: [UInt8]
}

extension PKCS15Parser {
    /// EF.DODF: opaque data objects `SEQUENCE { CommonObjectAttributes { label, flags, authId? },
    /// CommonDataObjectAttributes { applicationName?, applicationOID? }, [1] { Path } }`. Flags: bit 0
    /// private, bit 1 modifiable. External and OID data objects ([0], [1] choices) are skipped: ANS cards
    /// have none.
    package static func dataObjects(_ content: [UInt8]) throws(ASN1Error) -> [DODFEntry] {
        try BERElement.sequence(content[...]).filter { $0.tag == BERTag.sequence }.map { (object) throws(ASN1Error) in
            let parts = try object.children()
            guard parts.count >= 2 else { throw ASN1Error(.missingField, "data object attributes") }
            let common = try parts[0].children()
            let flags = try common.first(tag: BERTag.bitString)?.bits() ?? []
            let dataAttributes = parts[1].tag == BERTag.sequence ? try parts[1].children() : []
            let typeAttributes = try parts.required(tag: 0xA1, "data object type attributes").children()
            guard let value = typeAttributes.first else { throw ASN1Error(.missingField, "data object path") }
            return DODFEntry(
                label: common.first(tag: BERTag.utf8String)?.text() ?? "",
                applicationName: dataAttributes.first(tag: BERTag.utf8String)?.text(),
                objectID: dataAttributes.first(tag: 0x06).map { Array($0.encoded) },
                isPrivate: flags.contains(0), isModifiable: flags.contains(1),
                path: try dataPath(value))
        }
    }

    /// A Path (`SEQUENCE { OCTET STRING, index?, length? }`) or, leniently, the bare OCTET STRING.
    private static func dataPath(_ element: BERElement) throws(ASN1Error) -> [UInt8] {
        let octets: BERElement
        if element.tag == BERTag.octetString {
            octets = element
        } else {
            guard element.tag == BERTag.sequence else { throw ASN1Error(.unexpectedTag, "path is \(element.tagText)") }
            octets = try element.children().required(tag: BERTag.octetString, "path")
        }
        let path = octets.octets()
        guard !path.isEmpty, path.count % 2 == 0 else { throw ASN1Error(.invalidValue, "path of \(path.count) bytes") }
        return path
    }
}

extension DODFEntry {
    /// The object, with its file found the way `resolve` says, and no value yet.
    package func object(at location: CardDataObject.Location) -> CardDataObject {
        CardDataObject(
            label: label, applicationName: applicationName ?? "", objectID: objectID, isPrivate: isPrivate,
            isModifiable: isModifiable, location: location)
    }
}
