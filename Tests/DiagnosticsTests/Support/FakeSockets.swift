import Diagnostics
import P11KitClient

/// The Unix sockets that answer, and who serves them.
final class FakeSockets: SocketProbe {
    var userID: UInt32
    private var servers: [String: UnixSocketProbe.Server] = [:]

    init(userID: UInt32) { self.userID = userID }

    func serve(_ path: String, pid: Int32, uid: UInt32) { servers[path] = UnixSocketProbe.Server(pid: pid, uid: uid) }

    func accepts(_ path: String) -> Bool { servers[path] != nil }

    func server(_ path: String) -> UnixSocketProbe.Server? { servers[path] }
}
