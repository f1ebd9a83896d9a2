package import Foundation
package import SmartCardCore
package import VirtualCard

/// Virtual cards for tests. Making a card generates two RSA-2048 keys, so the default card is made
/// once per test process and every test starts from a copy of its state (fresh counters included).
package enum TestCards {
    /// The Cryptolib test defaults (cps3-card.md §15) as ASCII digit bytes: PIN 1234, PUK 12345678.
    package static let pin: [UInt8] = [0x31, 0x32, 0x33, 0x34]
    package static let puk: [UInt8] = [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38]

    /// A usable card for the PSC test identity, issued by the test PKI.
    package static let defaultState: CardState = {
        do {
            return try CardFactory.makeCard(CardProvisioningOptions())
        } catch {
            fatalError("the test PKI could not issue a card: \(error)")
        }
    }()

    /// A CPS4 (NXP ChipDoc) with the default card's keys, certificates and counters (no new keys: fast), giving
    /// the T=0/T=1 ATR by default or the T=0-only one with `atr: .t0`.
    package static func cps4State(atr: CPS4ATRVariant? = nil) -> CardState {
        defaultState.asGeneration(.cps4, atr: atr)
    }

    /// A card made with `options` (slow: new keys).
    package static func makeState(_ options: CardProvisioningOptions) throws -> CardState {
        try CardFactory.makeCard(options)
    }

    /// A new simulator from a copy of `state`; `onStateChange` sees every persisted change.
    package static func card(
        _ state: CardState = defaultState, onStateChange: @escaping @Sendable (CardState) -> Void = { _ in }
    ) -> CPS3Card {
        CPS3Card(state: state, onStateChange: onStateChange)
    }

    /// A directory under the system temporary directory (mode 0700: cpsd accepts a socket there), removed
    /// by the caller.
    package static func temporaryDirectory(_ prefix: String = "cpsd-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }
}

/// A card in a reader of an in-process backend, and a connection to it: the whole driver runs
/// against the simulator without sockets.
package struct InProcessCard {
    package static let readerName = "In-process CPS Reader 00 00"
    package let card: CPS3Card
    package let backend: VirtualBackend
    package let connection: any CardConnection

    package init(state: CardState = TestCards.defaultState, wrap: (CPS3Card) -> any CardSimulator = { $0 }) throws {
        card = TestCards.card(state)
        backend = VirtualBackend()
        backend.plugReader(Self.readerName)
        try backend.insert(wrap(card), into: Self.readerName)
        connection = try backend.connect(to: Self.readerName)
    }

    /// Runs `body` in one transaction and returns its result with the number of APDU exchanges.
    package func counting<R>(_ body: (inout CardSession) throws -> R) throws -> (R, exchanges: Int) {
        try connection.withTransaction { session in
            let result = try body(&session)
            return (result, session.exchangeCount)
        }
    }
}
