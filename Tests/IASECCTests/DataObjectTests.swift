import CardTestSupport
import IASECC
import SmartCardCore
import Testing
@testable import VirtualCard

/// The CPS business data objects through both card drivers (cryptolib-pkcs11.md §6, issue 12 item 1): the
/// DODF (and on CPS3 the CPS2ter synthesis) read at insertion, private values only after VERIFY, CPS_DATA
/// written with UPDATE BINARY and read back from the card itself.
@Suite struct DataObjectTests {
    static let publicLabels = ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_LANG_PS", "CPS_INFO_PS"]
    static let privateLabels = ["CPS_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_01_PS", "CPS_SIT_FACT"]

    /// What the virtual card holds, by label: the files the DODF names, and on CPS3 the CPS2ter files.
    static func expected(_ state: CardState) -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        let objects = state.cardGeneration == .cps4 ? CPS4Content.dataObjects(state) : BusinessData.objects(state)
        for object in objects { values[object.label] = object.content }
        if state.cardGeneration != .cps4 {
            let legacy = CPS2ter.files(state)
            values["CPS2TER_ACTIVITY_01_PS"] = legacy[CPS2ter.firstActivity]?.content
            values["CPS_SIT_FACT"] = legacy[CPS2ter.billingSituation]?.content
        }
        return values
    }

    static let states: [CardState] = [TestCards.defaultState, TestCards.cps4State()]

    @Test(arguments: states)
    func insertionReadsTheDODFAndOnlyThePublicValues(state: CardState) throws {
        let rig = try InProcessCard(state: state)
        let driver = try #require(CardDrivers.driver(for: rig.card.atr))
        let contents = try rig.connection.withTransaction { try driver.readCard(&$0) }
        let objects = contents.dataObjects
        #expect(Set(objects.map(\.label)) == Set(Self.publicLabels + Self.privateLabels))
        let expected = Self.expected(state)
        for object in objects {
            let isPrivate = Self.privateLabels.contains(object.label)
            #expect(object.isPrivate == isPrivate, "\(object.label)")
            #expect(object.isModifiable == (object.label == "CPS_DATA"), "\(object.label)")
            #expect(object.applicationName == "CPS", "\(object.label)")
            #expect(object.value == (isPrivate ? nil : expected[object.label]), "\(object.label)")
        }
    }

    @Test(arguments: states)
    func privateValuesAreReadAfterVerifyInTheSameTransaction(state: CardState) throws {
        let rig = try InProcessCard(state: state)
        let driver = try #require(CardDrivers.driver(for: rig.card.atr))
        let contents = try rig.connection.withTransaction { try driver.readCard(&$0) }
        let bound = driver.bound(to: contents)
        // Without VERIFY the card refuses them: a driver that would not verify first gets nothing.
        #expect(throws: IASECCError.self) {
            try rig.connection.withTransaction { try bound.readProtectedDataObjects(&$0, contents.dataObjects) }
        }
        let pin = Self.pin()
        let read = try rig.connection.withTransaction { session in
            try bound.verifyPIN(&session, pin)
            return try bound.readProtectedDataObjects(&session, contents.dataObjects)
        }
        let expected = Self.expected(state)
        #expect(read.map(\.label).sorted() == Self.privateLabels.sorted())
        for object in read { #expect(object.value == expected[object.label], "\(object.label)") }
    }

    @Test(arguments: states)
    func cpsDataIsWrittenPaddedAndReadBackFromTheCard(state: CardState) throws {
        let rig = try InProcessCard(state: state)
        let driver = try #require(CardDrivers.driver(for: rig.card.atr))
        let contents = try rig.connection.withTransaction { try driver.readCard(&$0) }
        let bound = driver.bound(to: contents)
        let cpsData = try #require(contents.dataObjects.first { $0.label == "CPS_DATA" })
        let size = try #require(cpsData.value?.count)
        let value = Array("cpsd data object test".utf8)
        // The card wants the PIN for UPDATE BINARY.
        #expect(throws: IASECCError.self) {
            try rig.connection.withTransaction { try bound.writeDataObject(&$0, cpsData, value: value) }
        }
        let pin = Self.pin()
        let stored = try rig.connection.withTransaction { session in
            try bound.verifyPIN(&session, pin)
            return try bound.writeDataObject(&session, cpsData, value: value)
        }
        let padded = value + [UInt8](repeating: 0, count: size - value.count)
        #expect(stored == padded)
        #expect(rig.card.state.cpsData == padded)
        rig.card.reset()
        let again = try rig.connection.withTransaction { try driver.readCard(&$0) }
        #expect(again.dataObjects.first { $0.label == "CPS_DATA" }?.value == padded)
        // Longer than the file: refused before the card sees a byte.
        let tooLong = [UInt8](repeating: 0x41, count: size + 1)
        #expect(throws: IASECCError.self) {
            try rig.connection.withTransaction { session in
                try bound.verifyPIN(&session, pin)
                _ = try bound.writeDataObject(&session, cpsData, value: tooLong)
            }
        }
        #expect(rig.card.state.cpsData == padded)
    }

    @Test func aDODFWithAnOIDAndABarePathParses() throws {
        // SEQUENCE { { "X", flags private+modifiable }, { "APP", OID 1.2.3 }, [1] OCTET STRING D200 }
        let object: [UInt8] = [
            0x30, 0x1B, 0x30, 0x07, 0x0C, 0x01, 0x58, 0x03, 0x02, 0x06, 0xC0, 0x30, 0x0A, 0x0C, 0x03, 0x41, 0x50,
            0x50, 0x06, 0x03, 0x2A, 0x03, 0x00, 0xA1, 0x04, 0x04, 0x02, 0xD2, 0x00,
        ]
        let entries = try PKCS15Parser.dataObjects(object)
        let entry = try #require(entries.first)
        #expect(entries.count == 1)
        #expect(entry.label == "X" && entry.applicationName == "APP" && entry.path == [0xD2, 0x00])
        #expect(entry.objectID == [0x06, 0x03, 0x2A, 0x03, 0x00])
        #expect(entry.isPrivate && entry.isModifiable)
    }

    static func pin() -> SecretBytes {
        var bytes = TestCards.pin
        return SecretBytes(consuming: &bytes)
    }
}
