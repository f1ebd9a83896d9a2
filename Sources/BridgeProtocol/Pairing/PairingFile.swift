package import Foundation
import Glibc

/// `bridge-pairings.json`: the paired extensions (origin, token digest, date), 0600 in
/// `$XDG_STATE_HOME/cpsd`. Written by cpsd when a pairing completes and by `cpsctl bridge unpair`;
/// cpsd notices a change (its modification stamp) before the next request, so an unpairing takes
/// effect at once.
package struct PairingFile: Sendable {
    package let path: String

    package init(path: String) { self.path = path }

    package static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return base + "/cpsd/bridge-pairings.json"
    }

    /// What identifies a version of the file (modification time, size, inode): nil when it does not exist.
    package var stamp: [Double]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return [
            (attributes[.modificationDate] as? Date)?.timeIntervalSinceReferenceDate ?? 0,
            Double((attributes[.size] as? NSNumber)?.int64Value ?? -1),
            Double((attributes[.systemFileNumber] as? NSNumber)?.int64Value ?? -1),
        ]
    }

    /// The pairings; a missing or unreadable file means none (the user re-pairs, nothing worse).
    package func load() -> [PairingRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (try? decoder.decode([PairingRecord].self, from: data)) ?? []
    }

    /// Replaces the file atomically (temporary file created 0600, then renamed).
    package func save(_ paired: [PairingRecord]) throws(PairingFileError) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let directory = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let temporary = path + ".tmp-\(getpid())"
            guard FileManager.default.createFile(
                atPath: temporary, contents: try encoder.encode(paired), attributes: [.posixPermissions: 0o600])
            else { throw PairingFileError(.notWritten, "cannot write \(temporary)") }
            guard rename(temporary, path) == 0 else { throw PairingFileError(.notWritten, "cannot rename \(temporary)") }
        } catch let error as PairingFileError {
            throw error
        } catch {
            throw PairingFileError(.notWritten, "cannot store the pairings in \(path): \(error)")
        }
    }
}
