package import P11KitClient

/// This machine's sockets, through `UnixSocketProbe`.
package struct LocalSocketProbe: SocketProbe {
    package init() {}

    package var userID: UInt32 { UnixSocketProbe.userID }

    package func accepts(_ path: String) -> Bool { UnixSocketProbe.accepts(path) }

    package func server(_ path: String) -> UnixSocketProbe.Server? { UnixSocketProbe.server(path) }
}
