package import Foundation

/// The pairings, shared by the bridge's threads and kept in a file (`bridge-pairings.json`, 0600, in
/// `$XDG_STATE_HOME/cpsd`), which holds only token digests. Remove the file (or `cpsctl bridge unpair`)
/// to revoke every extension.
package final class PairingRegistry: @unchecked Sendable {  // `book` under `lock`
    private let lock = NSLock()
    private var book: PairingBook
    private let path: String?

    /// `path` nil keeps pairings in memory only (tests of the policy).
    package init(path: String?) {
        self.path = path
        var stored: [PairingBook.Paired] = []
        if let path, let data = FileManager.default.contents(atPath: path) {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            stored = (try? decoder.decode([PairingBook.Paired].self, from: data)) ?? []
        }
        book = PairingBook(paired: stored)
    }

    package static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return base + "/cpsd/bridge-pairings.json"
    }

    func isPaired(_ caller: Caller) -> Bool {
        lock.withLock { book.isPaired(origin: caller.origin, token: caller.bearerToken) }
    }

    func start(origin: String) throws(BridgeError) -> PairingBook.Pending {
        lock.lock()
        defer { lock.unlock() }
        return try book.start(origin: origin, now: Date())
    }

    func finish(id: String, code: String, origin: String) throws(BridgeError) -> String {
        lock.lock()
        defer { lock.unlock() }
        let token = try book.finish(id: id, code: code, origin: origin, now: Date())
        try save()
        return token
    }

    package var pairedOrigins: [String] { lock.withLock { book.paired.map(\.origin) } }

    /// Called with `lock` held.
    private func save() throws(BridgeError) {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let directory = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let temporary = path + ".tmp"
            guard FileManager.default.createFile(
                atPath: temporary, contents: try encoder.encode(book.paired), attributes: [.posixPermissions: 0o600])
            else { throw BridgeError(.internalError, "cannot write \(temporary)") }
            guard rename(temporary, path) == 0 else { throw BridgeError(.internalError, "cannot rename \(temporary)") }
        } catch let error as BridgeError {
            throw error
        } catch {
            throw BridgeError(.internalError, "cannot store the pairing: \(error)")
        }
    }
}

import Glibc
