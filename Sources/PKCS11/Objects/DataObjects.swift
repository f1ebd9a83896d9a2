import PKCS11Constants

/// The CKO_DATA objects of a token: the CPS business data objects (cryptolib-pkcs11.md §5.2 "Data", §6), with
/// Cryptolib's attributes: CLASS, TOKEN, PRIVATE, MODIFIABLE (CPS_DATA only), LABEL, APPLICATION, VALUE as
/// the card stores it, OBJECT_ID when the card gives one. No CKA_ID: asking for it is CKR_ATTRIBUTE_TYPE_INVALID.
package enum DataObjects {
    /// CKO_DATA (not among the object classes of `CKO`, which the key code owns).
    package static let dataClass: UInt = 0

    /// Handles sit above the certificates' and keys' (`TokenObjects.build` numbers those from 1) and follow
    /// the object's place on the card, so they do not move when the private objects appear after a login.
    static let firstHandleIndex: UInt = 0x40

    package static func build(slot: SlotID, token: TokenState) -> [TokenObject] {
        token.dataObjects.map { object in
            let index = firstHandleIndex + UInt(min(max(object.index, 0), 0xBF))
            let handle = (UInt(truncatingIfNeeded: token.generation & 0x7FFF) << 16) | ((slot & 0xFF) << 8) | index
            var attributes: [CKA: [UInt8]] = [
                .class: AttributeValue.ulong(dataClass), .token: AttributeValue.bool(true),
                .private: AttributeValue.bool(object.isPrivate), .modifiable: AttributeValue.bool(object.isModifiable),
                .label: AttributeValue.utf8(object.label), .application: AttributeValue.utf8(object.application),
                .value: object.value,
            ]
            if let objectID = object.objectID { attributes[.objectID] = objectID }
            return TokenObject(handle: handle, isPrivate: object.isPrivate, attributes: attributes, sensitive: [])
        }
    }
}
