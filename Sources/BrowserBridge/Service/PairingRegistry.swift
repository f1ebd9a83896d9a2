package import BridgeProtocol
import Foundation
import Synchronization

/// The pairings, shared by the bridge's threads and kept in a `PairingFile`, which holds only token
/// digests. The file is read again whenever it changed (`cpsctl bridge unpair`, or removed by hand).
package final class PairingRegistry: Sendable {
    private struct State {
        var book: PairingBook
        var stamp: [Double]?
    }

    private let file: PairingFile?
    private let state: Mutex<State>

    /// `file` nil keeps pairings in memory only.
    package init(file: PairingFile?) {
        self.file = file
        state = Mutex(State(book: PairingBook(paired: file?.load() ?? []), stamp: file?.stamp))
    }

    func isPaired(_ caller: Caller) -> Bool {
        state.withLock { state in
            refreshIfChanged(&state)
            return state.book.isPaired(origin: caller.origin, token: caller.bearerToken)
        }
    }

    func start(origin: String) throws(BridgeError) -> PairingBook.Pending {
        try state.withLock { (state) throws(BridgeError) in try state.book.start(origin: origin, now: Date()) }
    }

    func finish(id: String, code: String, origin: String) throws(BridgeError) -> String {
        try state.withLock { (state) throws(BridgeError) in
            refreshIfChanged(&state)
            let token = try state.book.finish(id: id, code: code, origin: origin, now: Date())
            if let file {
                do throws(PairingFileError) {
                    try file.save(state.book.paired)
                } catch {
                    throw BridgeError(.internalError, error.reason)
                }
                state.stamp = file.stamp
            }
            return token
        }
    }

    private func refreshIfChanged(_ state: inout State) {
        guard let file else { return }
        let current = file.stamp
        guard current != state.stamp else { return }
        state.stamp = current
        state.book.replacePaired(file.load())
    }
}
