import Foundation
import SmartCardCore
import VirtualCard

/// Loads simulated cards from state directories, saving every state change back (so a blocked PIN stays
/// blocked across restarts).
enum CardLoader {
    static func load(stateDirectory: URL) throws -> any CardSimulator {
        let store = CardStore(directory: stateDirectory)
        let state = try store.load()
        return CPS3Card(state: state, onStateChange: { newState in
            do {
                try store.save(newState)
            } catch {
                status("cannot save the card state in \(stateDirectory.path): \(error)")
            }
        })
    }

    /// Whether `directory` already holds a card.
    static func hasCard(in directory: URL) -> Bool {
        (try? CardStore(directory: directory).load()) != nil
    }

    /// Deletes the files of the card in `directory` (for `init --force`).
    static func removeCard(in directory: URL) throws {
        let store = CardStore(directory: directory)
        for name in [
            CardStore.stateFileName, CardStore.authenticationCertificateFileName, CardStore.signatureCertificateFileName,
            CardStore.chainFileName, CardStore.rootFileName,
        ] {
            try? FileManager.default.removeItem(at: store.directory.appendingPathComponent(name))
        }
    }

    /// Loads the card in `directory`, first creating a default one there if there is none. With a `kind`, the
    /// card is made that generation (an existing card of the other one keeps its keys and counters).
    static func loadOrCreateDefault(in directory: URL, kind: StackCardKind? = nil) throws -> any CardSimulator {
        let store = CardStore(directory: directory)
        if !hasCard(in: directory) {
            var options = CardProvisioningOptions()
            if let kind { (options.generation, options.cps4ATR) = (kind.generation, kind.atr) }
            try store.initialize(try CardFactory.makeCard(options))
        } else if let kind {
            let state = try store.load()
            let wanted = state.asGeneration(kind.generation, atr: kind.atr)
            if wanted.cardGeneration != state.cardGeneration || wanted.cps4ATR != state.cps4ATR {
                try store.save(wanted)
            }
        }
        return try load(stateDirectory: directory)
    }
}

/// One word of `cps-vcard stack --generation`: `cps3`, `cps4` (T=0/T=1 ATR) or `cps4-t0` (T=0-only ATR).
struct StackCardKind: Equatable {
    var generation: CardGeneration
    var atr: CPS4ATRVariant?

    init?(_ word: String) {
        switch word {
        case "cps3": (generation, atr) = (.cps3, nil)
        case "cps4": (generation, atr) = (.cps4, nil)
        case "cps4-t0": (generation, atr) = (.cps4, .t0)
        default: return nil
        }
    }

    /// A comma-separated list; nil if a word is unknown or the list is empty.
    static func list(_ text: String) -> [StackCardKind]? {
        let kinds = text.split(separator: ",", omittingEmptySubsequences: false).map {
            StackCardKind($0.trimmingCharacters(in: .whitespaces))
        }
        guard !kinds.isEmpty, kinds.allSatisfy({ $0 != nil }) else { return nil }
        return kinds.compactMap { $0 }
    }
}
