import PKCS11Constants
import SmartCardCore

/// C_SetAttributeValue (PKCS#11 2.40 §5.7). Cryptolib lets one attribute of one object change: CKA_VALUE of
/// the modifiable data object CPS_DATA, in a R/W session (cryptolib-pkcs11.md §6.3). The card wants the PIN
/// for the write, so the value goes to the card with the PIN kept since C_Login, under the rules of C_Sign.
extension PKCS11Connection {
    /// CKR_ATTRIBUTE_READ_ONLY (not among the `CKR` constants the other calls use).
    static let attributeReadOnly = CKR(rawValue: 0x010)

    package func setAttributeValue(session handle: UInt, object: UInt, template: [Attribute]) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        // Before the object is looked at, as Cryptolib (OpenSC's C_SetAttributeValue) does.
        guard session.readWrite else { throw PKCS11Error(.sessionReadOnly) }
        guard let found = visibleObjects(slot: session.slot, token: token).first(where: { $0.handle == object }) else {
            throw PKCS11Error(.objectHandleInvalid)
        }
        guard !template.isEmpty else { return }
        let writable = found.objectClass == DataObjects.dataClass && found.flag(.modifiable)
        guard writable, template.allSatisfy({ $0.type == .value }), let value = template.last?.value else {
            throw PKCS11Error(Self.attributeReadOnly, "only CKA_VALUE of a modifiable data object can change")
        }
        // The file keeps its size: a shorter value is zero-padded by the card, a longer one cannot fit.
        let size = found.attributes[.value]?.count ?? 0
        guard value.count <= size else {
            throw PKCS11Error(.generalError, "\(found.label) holds \(size) bytes, not \(value.count)")
        }
        try withKeptPIN(session: session) { (pin) throws(TokenError) in
            try cards.writeData(
                client: client, slot: session.slot, generation: token.generation, label: found.label, value: value,
                pin: pin, origin: .keptSinceLogin)
        }
    }
}
