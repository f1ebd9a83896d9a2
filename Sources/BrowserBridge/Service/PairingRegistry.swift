package import BridgeProtocol
package import Foundation

/// The pairings, shared by the bridge's threads and kept in a `PairingFile`, which holds only token
/// digests. The file is read again whenever it changed (`cpsctl bridge unpair`, or removed by hand).
package final class PairingRegistry: @unchecked Sendable {  // `book` and `stamp` under `lock`
    private let lock = NSLock()
    private var book: PairingBook
    private let file: PairingFile?
    private var stamp: [Double]?

    /// `file` nil keeps pairings in memory only.
    package init(file: PairingFile?) {
        self.file = file
        stamp = file?.stamp
        book = PairingBook(paired: file?.load() ?? [])
    }

    func isPaired(_ caller: Caller) -> Bool {
        lock.withLock {
            refreshIfChanged()
            return book.isPaired(origin: caller.origin, token: caller.bearerToken)
        }
    }

    func start(origin: String) throws(BridgeError) -> PairingBook.Pending {
        lock.lock()
        defer { lock.unlock() }
        return try book.start(origin: origin, now: Date())
    }

    func finish(id: String, code: String, origin: String) throws(BridgeError) -> String {
        lock.lock()
        defer { lock.unlock() }
        refreshIfChanged()
        let token = try book.finish(id: id, code: code, origin: origin, now: Date())
        if let file {
            do {
                try file.save(book.paired)
            } catch {
                throw BridgeError(.internalError, error.reason)
            }
            stamp = file.stamp
        }
        return token
    }

    /// Called with `lock` held.
    private func refreshIfChanged() {
        guard let file else { return }
        let current = file.stamp
        guard current != stamp else { return }
        stamp = current
        book.replacePaired(file.load())
    }
}
