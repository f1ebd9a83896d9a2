package import P11KitClient

/// Connections to Unix sockets (cpsd's, pcscd's): who answers, and as whom. The seam tests replace
/// with a table of sockets.
package protocol SocketProbe {
    /// This process's real user id.
    var userID: UInt32 { get }
    /// Whether something accepts connections on `path`.
    func accepts(_ path: String) -> Bool
    /// The process serving `path` (SO_PEERCRED), or nil.
    func server(_ path: String) -> UnixSocketProbe.Server?
}
