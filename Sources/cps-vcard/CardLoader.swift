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

    /// Loads the card in `directory`, first creating a default one there if there is none.
    static func loadOrCreateDefault(in directory: URL) throws -> any CardSimulator {
        if !hasCard(in: directory) {
            try CardStore(directory: directory).initialize(try CardFactory.makeCard(CardProvisioningOptions()))
        }
        return try load(stateDirectory: directory)
    }
}
