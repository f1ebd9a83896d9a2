import ErrorShape
package import Foundation
import SmartCardCore
import SwiftASN1

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A card's state directory: `state.json` (the ``CardState``, mode 0600) and, written once by
/// ``initialize(_:)``, the public certificates as PEM for tests and trust stores:
/// `auth.pem`, `sig.pem`, `ca-chain.pem` (intermediate then root) and `root.pem`.
///
/// Every write goes to a temporary file in the same directory that is then renamed over the target, so a reader
/// (or a crash) sees the old state or the new one, never a partial file. ``save(_:)`` does not fsync: it runs on
/// every PIN try, and the simulator only needs atomicity, not durability across power loss.
package struct CardStore: Sendable {
    package static let stateFileName = "state.json"
    package static let authenticationCertificateFileName = "auth.pem"
    package static let signatureCertificateFileName = "sig.pem"
    package static let chainFileName = "ca-chain.pem"
    package static let rootFileName = "root.pem"

    package let directory: URL

    package init(directory: URL) {
        self.directory = directory
    }

    package var stateURL: URL { directory.appendingPathComponent(Self.stateFileName) }

    /// Whether `directory` holds a card state.
    package static func exists(at directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: CardStore(directory: directory).stateURL.path)
    }

    // MARK: - Reading

    package func load() throws(CardStoreError) -> CardState {
        let path = stateURL.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw CardStoreError(.missing, "no card state at \(path)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: stateURL)
        } catch {
            throw CardStoreError(.unreadable, "cannot read \(path): \(error)")
        }
        // The version is read on its own first, so a future layout is reported as such and not as malformed.
        let version: Int
        do {
            version = try JSONDecoder().decode(FormatProbe.self, from: data).formatVersion
        } catch {
            throw CardStoreError(.malformed, "\(path) is not a card state: \(error)")
        }
        guard version == CardState.currentFormatVersion else {
            throw CardStoreError(
                .unsupportedFormatVersion,
                "\(path) has format version \(version); this build reads version \(CardState.currentFormatVersion)")
        }
        do {
            return try JSONDecoder().decode(CardState.self, from: data)
        } catch {
            throw CardStoreError(.malformed, "\(path) is not a card state: \(error)")
        }
    }

    private struct FormatProbe: Decodable {
        var formatVersion: Int
    }

    // MARK: - Writing

    /// Replaces `state.json` atomically (mode 0600), creating the directory (mode 0700) if needed.
    package func save(_ state: CardState) throws(CardStoreError) {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            data = try encoder.encode(state)
        } catch {
            throw CardStoreError(.writeFailed, "cannot encode the card state: \(error)")
        }
        try createDirectory()
        try writeAtomically(Array(data), to: stateURL, mode: 0o600)
    }

    /// Creates a new card: saves `state` and writes its certificates as PEM. Refuses to overwrite an existing card.
    package func initialize(_ state: CardState) throws(CardStoreError) {
        guard !Self.exists(at: directory) else {
            throw CardStoreError(.alreadyExists, "a card state already exists at \(stateURL.path)")
        }
        try save(state)
        let chain = state.caChainDER.map { Self.pem($0) }.joined()
        let files: [(String, String)] = [
            (Self.authenticationCertificateFileName, Self.pem(state.authenticationCertificateDER)),
            (Self.signatureCertificateFileName, Self.pem(state.signatureCertificateDER)),
            (Self.chainFileName, chain),
            (Self.rootFileName, state.caChainDER.last.map { Self.pem($0) } ?? ""),
        ]
        for (name, text) in files {
            try writeAtomically(Array(text.utf8), to: directory.appendingPathComponent(name), mode: 0o644)
        }
    }

    private static func pem(_ der: [UInt8]) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
    }

    private func createDirectory() throws(CardStoreError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CardStoreError(.writeFailed, "cannot create \(directory.path): \(error)")
        }
    }

    private func writeAtomically(_ bytes: [UInt8], to target: URL, mode: mode_t) throws(CardStoreError) {
        do {
            try AtomicFile.replace(bytes, at: target, mode: mode, temporaryDirectory: directory)
        } catch {
            throw CardStoreError(.writeFailed, error.reason)
        }
    }
}


/// Why a card state could not be loaded or saved.
package struct CardStoreError: CodedError {
    package enum Code: String, ErrorCode {
        /// No `state.json` in the directory.
        case missing
        /// `state.json` exists but cannot be read (permissions, I/O).
        case unreadable
        /// `state.json` is not JSON, or not a card state.
        case malformed
        /// `state.json` was written by another version of the format.
        case unsupportedFormatVersion
        /// ``CardStore/initialize(_:)`` found a card already there.
        case alreadyExists
        /// The directory or a file could not be written.
        case writeFailed
    }

    package var code: Code
    package var reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

}
