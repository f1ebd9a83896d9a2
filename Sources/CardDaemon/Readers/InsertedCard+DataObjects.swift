import IASECC
import PKCS11
import PKCS11Constants
import SmartCardCore

/// The CPS business data objects in memory (cryptolib-pkcs11.md §6): the public ones were read at insertion,
/// the private ones are read once, right after the first successful user VERIFY (`ReaderActor.login`), and
/// all of them are forgotten with the card. Values are never logged.
extension InsertedCard {
    /// Inside a login's transaction, after its VERIFY succeeded: the private objects' values, or nil when they
    /// were read already. A card error other than a broken transport does not undo the login (the PIN was
    /// right): the objects simply stay unread, and the next login tries again.
    mutating func readProtectedDataObjects(_ session: inout CardSession) throws(IASECCError) -> [CardDataObject]? {
        guard !protectedDataRead else { return nil }
        let wanted = contents.dataObjects.filter { $0.isPrivate && $0.value == nil }
        guard !wanted.isEmpty else { return nil }
        do {
            return try driver.readProtectedDataObjects(&session, wanted)
        } catch where error.code != .transport {
            return nil
        }
    }

    /// Stores the private objects' values read after a login.
    mutating func remember(_ objects: [CardDataObject]) {
        protectedDataRead = true
        for object in objects {
            guard let index = contents.dataObjects.firstIndex(where: { $0.label == object.label }) else { continue }
            contents.dataObjects[index].value = object.value
        }
    }

    /// The modifiable object `label`, checked against what the card holds before any APDU (and so before any
    /// VERIFY): a value longer than its file is refused (cryptolib-pkcs11.md §6.3).
    func writableDataObject(_ label: String, valueLength: Int) throws(IASECCError) -> Int {
        guard let index = contents.dataObjects.firstIndex(where: { $0.label == label }),
            contents.dataObjects[index].isModifiable
        else { throw IASECCError(.conditionsNotSatisfied, "\(label) is not a modifiable data object of this card") }
        if let size = contents.dataObjects[index].value?.count, valueLength > size {
            throw IASECCError(.inputTooLong, "\(label) holds \(size) bytes, not \(valueLength)")
        }
        return index
    }
}

extension ReaderActor {
    /// C_SetAttributeValue(CKA_VALUE) of CPS_DATA: the card wants the PIN for UPDATE BINARY, so it runs
    /// under the rules of a signature (kept PIN checked against the counter, one VERIFY, never re-sent after
    /// a refusal, reset at the end of the transaction); card and memory are updated together.
    func writeData(
        client: ClientID, generation: UInt64, label: String, value: [UInt8], pin: SecretHolder, origin: PINOrigin
    ) throws(TokenError) {
        _ = try withVerifiedPIN(
            client: client, generation: generation, pin: pin, origin: origin, "write \(label)",
            validate: { (card) throws(IASECCError) in _ = try card.writableDataObject(label, valueLength: value.count) }
        ) { (card, session) throws(IASECCError) in
            let index = try card.writableDataObject(label, valueLength: value.count)
            let stored = try card.driver.writeDataObject(&session, card.contents.dataObjects[index], value: value)
            card.contents.dataObjects[index].value = stored
            return []
        }
    }
}

extension TokenDataObject {
    /// The PKCS#11 view of a card data object; nil while its value is unknown (a private object before the
    /// first login): an object without its value is not shown at all.
    init?(_ object: CardDataObject, index: Int) {
        guard let value = object.value else { return nil }
        self.init(
            index: index, label: object.label, application: object.applicationName, objectID: object.objectID,
            isPrivate: object.isPrivate, isModifiable: object.isModifiable, value: value)
    }
}
