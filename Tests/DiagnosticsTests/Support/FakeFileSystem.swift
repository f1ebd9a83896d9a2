import Diagnostics

/// An in-memory file tree for the file-system seam: files, executables, symbolic links and owners, each
/// set by the test. A directory exists when something lies under it.
final class FakeFileSystem: DiagFileSystem {
    private(set) var files: [String: [UInt8]] = [:]
    private var executables: Set<String> = []
    private var links: [String: String] = [:]
    private var owners: [String: UInt32] = [:]

    func write(_ path: String, _ text: String) { files[path] = Array(text.utf8) }

    func write(_ path: String, bytes: [UInt8]) { files[path] = bytes }

    func addExecutable(_ path: String) {
        write(path, "#!/bin/sh\n")
        executables.insert(path)
    }

    func link(_ path: String, to destination: String) { links[path] = destination }

    func setOwner(_ path: String, uid: UInt32) { owners[path] = uid }

    func fileExists(_ path: String) -> Bool {
        files[path] != nil || links[path] != nil || !children(of: path).isEmpty
    }

    func isExecutableFile(_ path: String) -> Bool { executables.contains(path) }

    func contents(_ path: String) -> [UInt8]? { files[path] }

    func directoryEntries(_ path: String) -> [String]? {
        let names = children(of: path)
        return names.isEmpty ? nil : names.sorted()
    }

    func symbolicLinkDestination(_ path: String) -> String? { links[path] }

    func resolvingSymlinks(_ path: String) -> String { links[path] ?? path }

    func ownerID(_ path: String) -> UInt32? { owners[path] }

    /// The names directly under `directory`.
    private func children(of directory: String) -> Set<String> {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        var names: Set<String> = []
        for path in Array(files.keys) + Array(links.keys) + Array(owners.keys) where path.hasPrefix(prefix) {
            if let first = path.dropFirst(prefix.count).split(separator: "/").first { names.insert(String(first)) }
        }
        return names
    }
}
