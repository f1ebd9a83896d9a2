import Foundation

/// The processes of /proc, read through the file-system seam: who they are, their command lines, and
/// which sockets they hold.
package struct ProcessTable {
    let files: any DiagFileSystem

    package init(files: any DiagFileSystem) { self.files = files }

    package func process(_ pid: Int32) -> LocalProcess {
        let exe = files.symbolicLinkDestination("/proc/\(pid)/exe")
        let comm = files.text("/proc/\(pid)/comm")?.trimmingCharacters(in: .whitespacesAndNewlines)
        return LocalProcess(pid: pid, program: exe ?? comm ?? "?", uid: files.ownerID("/proc/\(pid)"))
    }

    /// Every pid /proc lists, in order.
    package func allPIDs() -> [Int32] { (files.directoryEntries("/proc") ?? []).compactMap(Int32.init).sorted() }

    /// Its command line, argument by argument (empty when unreadable).
    package func arguments(of pid: Int32) -> [String] {
        guard let data = files.contents("/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// The socket inodes among its open descriptors ("socket:[N]"); empty when they cannot be read.
    package func socketInodes(of pid: Int32) -> Set<UInt64> {
        let directory = "/proc/\(pid)/fd"
        guard let entries = files.directoryEntries(directory) else { return [] }
        var inodes: Set<UInt64> = []
        for entry in entries {
            guard let target = files.symbolicLinkDestination("\(directory)/\(entry)"),
                target.hasPrefix("socket:["), target.hasSuffix("]")
            else { continue }
            if let inode = UInt64(target.dropFirst(8).dropLast()) { inodes.insert(inode) }
        }
        return inodes
    }

    /// Every process with one of `inodes` open, `first` looked at before the others (the likely owner).
    package func owners(of inodes: Set<UInt64>, first: [Int32] = []) -> [LocalProcess] {
        guard !inodes.isEmpty else { return [] }
        for pid in first where !socketInodes(of: pid).isDisjoint(with: inodes) {
            return [process(pid)]
        }
        return allPIDs().filter { !socketInodes(of: $0).isDisjoint(with: inodes) }.map(process)
    }
}
