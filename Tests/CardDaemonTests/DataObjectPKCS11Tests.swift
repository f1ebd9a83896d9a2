import CardDaemon
import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

/// The CKO_DATA objects as a PKCS#11 client sees them through the daemon's cards (cryptolib-pkcs11.md §5.2,
/// §6.1, §6.3): private ones invisible before C_Login, stable handles, Cryptolib's attributes, and
/// C_SetAttributeValue's answers.
@Suite struct DataObjectPKCS11Tests {
    static func dataHandles(_ connection: PKCS11Connection, _ session: UInt) throws -> [UInt] {
        try connection.findObjectsInit(
            session: session, template: [Attribute(type: .class, value: AttributeValue.ulong(DataObjects.dataClass))])
        defer { try? connection.findObjectsFinal(session: session) }
        return try connection.findObjects(session: session, maxCount: 100)
    }

    static func attribute(_ connection: PKCS11Connection, _ session: UInt, _ object: UInt, _ type: CKA) throws
        -> AttributeResult
    {
        try connection.attributeValues(
            session: session, object: object, requests: [AttributeRequest(type: type, capacity: 4096)])[0]
    }

    static func label(_ connection: PKCS11Connection, _ session: UInt, _ object: UInt) throws -> String {
        guard case .value(let bytes) = try attribute(connection, session, object, .label) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: [TestCards.defaultState, TestCards.cps4State()])
    func privateObjectsAppearAfterLoginAndOnlyCPSDataIsWritable(state: CardState) async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard(card: RecordingCard(TestCards.card(state)))
            try await onThread {
                let connection = PKCS11Connection(client: ClientID(21), cards: daemon.cards)
                try connection.initialize()
                let session = try connection.openSession(slot: slot.id, flags: CKF.serialSession | CKF.rwSession)
                let before = try Self.dataHandles(connection, session)
                let publicLabels = try before.map { try Self.label(connection, session, $0) }
                #expect(publicLabels == ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_LANG_PS", "CPS_INFO_PS"])
                let cpsData = before[0]
                #expect(try Self.attribute(connection, session, cpsData, .id) == .invalidType)
                #expect(try Self.attribute(connection, session, cpsData, .application) == .value(Array("CPS".utf8)))
                #expect(try Self.attribute(connection, session, cpsData, .modifiable) == .value([1]))
                #expect(try Self.attribute(connection, session, before[1], .modifiable) == .value([0]))

                try connection.login(session: session, userType: .user, pin: Codes.pin())
                let after = try Self.dataHandles(connection, session)
                #expect(Array(after.prefix(before.count)) == before, "handles do not move at login")
                let privateLabels = try after.dropFirst(before.count).map { try Self.label(connection, session, $0) }
                #expect(Set(privateLabels) == ["CPS_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_01_PS", "CPS_SIT_FACT"])
                for handle in after.dropFirst(before.count) {
                    #expect(try Self.attribute(connection, session, handle, .private) == .value([1]))
                }

                // Another client, not logged in, sees none of them.
                let other = PKCS11Connection(client: ClientID(22), cards: daemon.cards)
                try other.initialize()
                let otherSession = try other.openSession(slot: slot.id, flags: CKF.serialSession)
                #expect(try Self.dataHandles(other, otherSession) == before)
                #expect(throws: PKCS11Error.self) {
                    try other.attributeValues(
                        session: otherSession, object: after.last!, requests: [AttributeRequest(type: .value, capacity: 4096)])
                }
                // C_SetAttributeValue's refusals (§6.3).
                let value = Attribute(type: .value, value: Array("ok".utf8))
                #expect(throws: PKCS11Error(.sessionReadOnly)) {
                    try other.setAttributeValue(session: otherSession, object: cpsData, template: [value])
                }
                let readOnly = CKR(rawValue: 0x010)
                #expect(throws: PKCS11Error(readOnly)) {
                    try connection.setAttributeValue(session: session, object: before[1], template: [value])
                }
                #expect(throws: PKCS11Error(readOnly)) {
                    try connection.setAttributeValue(
                        session: session, object: cpsData,
                        template: [Attribute(type: .label, value: Array("X".utf8))])
                }
                #expect(throws: PKCS11Error(.generalError)) {
                    try connection.setAttributeValue(
                        session: session, object: cpsData,
                        template: [Attribute(type: .value, value: [UInt8](repeating: 1, count: 4096))])
                }
                try connection.setAttributeValue(session: session, object: cpsData, template: [value])
                guard case .value(let written) = try Self.attribute(connection, session, cpsData, .value) else {
                    Issue.record("no CKA_VALUE")
                    return
                }
                #expect(written.starts(with: Array("ok".utf8)) && written.dropFirst(2).allSatisfy { $0 == 0 })
                #expect(try Self.dataHandles(connection, session).first == cpsData)
            }
        }
    }
}
