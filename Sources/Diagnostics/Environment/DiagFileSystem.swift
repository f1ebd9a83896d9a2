/// The files diag reads (/proc, /etc, the user's configuration): the seam tests replace with an
/// in-memory tree. Every read is total: what cannot be read is nil or empty, never an error.
package protocol DiagFileSystem {
    func fileExists(_ path: String) -> Bool
    func isExecutableFile(_ path: String) -> Bool
    /// The bytes of a file, or nil.
    func contents(_ path: String) -> [UInt8]?
    /// The names in a directory, or nil when it cannot be listed.
    func directoryEntries(_ path: String) -> [String]?
    /// Where a symbolic link points (one level), or nil.
    func symbolicLinkDestination(_ path: String) -> String?
    /// `path` with every symbolic link along it resolved.
    func resolvingSymlinks(_ path: String) -> String
    /// The uid owning `path`, or nil.
    func ownerID(_ path: String) -> UInt32?
}

extension DiagFileSystem {
    /// A file as UTF-8 text, or nil.
    package func text(_ path: String) -> String? {
        contents(path).map { String(decoding: $0, as: UTF8.self) }
    }
}
