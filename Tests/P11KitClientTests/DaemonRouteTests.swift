import Foundation
import NIOCore
import NIOPosix
import P11KitClient
import Testing

/// cpsd's socket: the address p11-kit-client.so is given, where it is looked for, and the refusal of a
/// socket that is not this user's, on a real listening socket.
@Suite("P11KitClient: DaemonRoute")
struct DaemonRouteTests {
    @Test("the p11-kit address escapes what p11-kit would decode")
    func serverAddress() {
        #expect(DaemonRoute(socketPath: "/run/user/1000/p11-kit/pkcs11").serverAddress == "unix:path=/run/user/1000/p11-kit/pkcs11")
        #expect(DaemonRoute(socketPath: "/tmp/a b%c").serverAddress == "unix:path=/tmp/a%20b%25c")
    }

    @Test("the socket: P11_KIT_SERVER_ADDRESS, else XDG_RUNTIME_DIR's p11-kit/pkcs11; a non-unix address has none")
    func defaultSocketPath() {
        #expect(DaemonRoute.defaultSocketPath(environment: ["P11_KIT_SERVER_ADDRESS": "unix:path=/tmp/a%20b"]) == "/tmp/a b")
        #expect(DaemonRoute.defaultSocketPath(environment: ["XDG_RUNTIME_DIR": "/run/user/7"]) == "/run/user/7/p11-kit/pkcs11")
        #expect(DaemonRoute.defaultSocketPath(environment: ["P11_KIT_SERVER_ADDRESS": "tcp:localhost:1"]) == nil)
    }

    /// A Unix socket this process listens on, in a fresh directory of mode `mode`, for `body`.
    static func withListeningSocket(mode: Int = 0o700, _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("p11kitclient-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pkcs11").path
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try ServerBootstrap(group: group).bind(unixDomainSocketPath: path).wait()
        defer { try? server.close().wait() }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: directory.path)
        try body(path)
    }

    @Test("this user's socket in a directory only this user can change is accepted")
    func ours() throws {
        try Self.withListeningSocket { path in
            #expect(throws: Never.self) { try DaemonRoute(socketPath: path).checkServerIsOurs() }
        }
    }

    @Test("a socket served by another uid is refused, naming that uid")
    func foreignServer() throws {
        try Self.withListeningSocket { path in
            let other = UnixSocketProbe.userID &+ 1
            let error = #expect(throws: DaemonRouteError.self) { try DaemonRoute(socketPath: path).checkServerIsOurs(userID: other) }
            #expect(error?.code == .foreignServer)
            #expect(error?.reason.contains("runs as uid \(UnixSocketProbe.userID), not as you (uid \(other))") == true)
        }
    }

    @Test("a socket whose directory others may write is refused: the socket could be swapped")
    func unsafeDirectory() throws {
        try Self.withListeningSocket(mode: 0o777) { path in
            let error = #expect(throws: DaemonRouteError.self) { try DaemonRoute(socketPath: path).checkServerIsOurs() }
            #expect(error?.code == .unsafeDirectory)
            #expect(error?.reason.contains("mode 0777") == true)
        }
    }

    @Test("nothing listening: refused before anything is sent")
    func notAnswering() {
        let error = #expect(throws: DaemonRouteError.self) {
            try DaemonRoute(socketPath: "/nonexistent-\(UUID().uuidString)/pkcs11").checkServerIsOurs()
        }
        #expect(error?.code == .notAnswering)
    }
}
