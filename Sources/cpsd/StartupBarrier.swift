import CardDaemon
import Foundation
import SmartCardCore

/// Holds the first PKCS#11 clients back until the cards present at start are read. Under socket
/// activation the very client that started cpsd asks for the slot list at once; without this it would
/// see no token. Bounded, and only at start: cpsd asks PC/SC which readers hold a card, then waits for
/// the registry to have read each of them (or given up on it).
enum StartupBarrier {
    static func waitForInitialCards(
        backend: any CardBackend, registry: ReaderRegistry, timeout: Duration = .seconds(5)
    ) async {
        guard let readers = try? backend.listReaders(), !readers.isEmpty else { return }
        let expected = Set(readers.map(\.name))
        let withCard = Set(readers.filter(\.cardPresent).map(\.name))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let known = registry.readers()
            let names = Set(known.map(\.readerName))
            let settled = known.filter { withCard.contains($0.readerName) }.allSatisfy { $0.condition != .reading }
            let cardsSeen = withCard.isSubset(of: Set(known.filter { $0.condition != .empty }.map(\.readerName)))
            if expected.isSubset(of: names) && settled && cardsSeen { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
