import CardTestSupport
import Foundation
import Glibc
import Testing

/// One cpsd per socket, only in the user's own directory, and cpsctl handing PINs only to a daemon of
/// its own user (issue 10, item 9).
@Suite("cpsd single instance and socket ownership")
struct DaemonSingleInstanceTests {
    static let cpsd = ToolRunner.executable("cpsd")
    static let cpsctl = ToolRunner.executable("cpsctl")

    @Test("a second cpsd on the same socket exits 3 naming the first's pid; the first keeps serving on its socket")
    func secondDaemonRefused() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let inode = try Self.inode(daemon.socketPath)
            let second = try ToolRunner.run(
                Self.cpsd, ["--socket", daemon.socketPath, "--no-bridge"], environment: stack.environment, timeout: 20)
            #expect(second.status == 3, "\(second.output)")
            #expect(second.stderr.contains("another cpsd (pid \(daemon.pid)) already serves this socket"), "\(second.stderr)")
            #expect(second.stderr.contains("\(daemon.socketPath).lock"))
            #expect(try Self.inode(daemon.socketPath) == inode, "the second cpsd left the first one's socket alone")
            let listing = try DaemonTest.tool(daemon, ["-L"])
            #expect(listing.stdout.contains("token label        : \(DaemonTest.tokenLabel)"), "\(listing.output)")
            #expect(!daemon.hasExited)
        }
    }

    @Test("under socket activation the activated cpsd holds the lock: one started by hand on its socket exits 3")
    func socketActivationHoldsTheLock() async throws {
        try await RealStack.withStack { stack in
            let directory = TestCards.temporaryDirectory("cpsd-sa-lock").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = "P11_KIT_SERVER_ADDRESS=unix:path=\(directory)/pkcs11 timeout 20 pkcs11-tool --module \(DaemonProcess.clientModule) -L"
            let script = """
                cd \(directory)
                systemd-socket-activate -l \(directory)/pkcs11 -E PCSCLITE_CSOCK_NAME \(Self.cpsd) --socket \(directory)/pkcs11 --no-bridge 2>cpsd.log &
                activator=$!
                echo "activated pid: $activator"
                for i in $(seq 100); do [ -S pkcs11 ] && break; sleep 0.02; done
                \(client) >/dev/null
                timeout 15 \(Self.cpsd) --socket \(directory)/pkcs11 --no-bridge 2>second.log
                echo "second exit status: $?"
                \(client)
                kill -TERM $activator; wait $activator
                cat second.log >&2
                """
            let result = try ToolRunner.shell(script, environment: stack.environment, timeout: 90)
            let pid = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("activated pid: ") }?.dropFirst(15))
            #expect(result.stdout.contains("second exit status: 3"), "\(result.output)")
            #expect(result.stderr.contains("another cpsd (pid \(pid)) already serves this socket"), "\(result.stderr)")
            #expect(result.stdout.contains("CPS3v3-"), "the activated cpsd still serves: \(result.output)")
        }
    }

    enum UnsafeDirectory: String, CaseIterable, CustomTestStringConvertible {
        case openMode, foreignOwner, symbolicLink
        var testDescription: String { rawValue }
    }

    @Test("cpsd refuses a socket directory that is not the user's own 0700 one, naming it", arguments: UnsafeDirectory.allCases)
    func unsafeRuntimeDirectory(_ kind: UnsafeDirectory) throws {
        let base = TestCards.temporaryDirectory("cpsd-rundir")
        defer { try? FileManager.default.removeItem(at: base) }
        let real = base.appendingPathComponent("real").path
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        var directory = real
        let reason: String
        switch kind {
        case .openMode:
            #expect(chmod(real, 0o755) == 0)
            reason = "has mode 0755; it must be 0700"
        case .foreignOwner:
            try #require(getuid() == 0, "giving a directory to uid 65534 takes root")
            #expect(chown(real, 65534, 65534) == 0)
            reason = "is owned by uid 65534, not by you (uid 0)"
        case .symbolicLink:
            directory = base.appendingPathComponent("link").path
            try FileManager.default.createSymbolicLink(atPath: directory, withDestinationPath: real)
            reason = "is a symbolic link"
        }
        // No stack: a refusal comes before PC/SC. A cpsd that did not refuse would serve until the timeout.
        let result = try ToolRunner.run(Self.cpsd, ["--socket", "\(directory)/pkcs11", "--no-bridge"], timeout: 20)
        #expect(result.status == 4, "\(result.output)")
        #expect(result.stderr.contains("refusing to start: the socket's directory \(directory) \(reason)"), "\(result.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: real)
        #expect(left.isEmpty, "neither the socket nor its lock was made: \(left)")
    }

    @Test("cpsctl pin change and sign refuse a socket served by another uid, sending it nothing (no PIN)")
    func cpsctlRefusesAStrangersDaemon() throws {
        try #require(getuid() == 0, "running a listener as uid 65534 takes root")
        let directory = TestCards.temporaryDirectory("cpsd-stranger")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("pkcs11").path
        let script = directory.appendingPathComponent("stranger.py").path
        try Self.strangerListener.write(toFile: script, atomically: true, encoding: .utf8)
        let stranger = try WatchedProcess(
            "/usr/bin/python3", [script, socketPath], logPath: directory.appendingPathComponent("stranger.log").path)
        defer { stranger.stop() }
        try stranger.waitForOutput("listening as uid 65534")
        let pins = directory.appendingPathComponent("pins").path
        try "1234\n5678\n5678\n".write(toFile: pins, atomically: true, encoding: .utf8)
        let options = "--daemon-socket \(socketPath) --pin-fd 3 3<\(pins)"
        for command in ["pin change", "sign --key auth --mechanism SHA256-RSA-PKCS --in /etc/hostname --out /dev/null"] {
            let result = try ToolRunner.shell("\(Self.cpsctl) \(command) \(options)", timeout: 30)
            #expect(result.status != 0, "\(command): \(result.output)")
            #expect(result.stderr.contains("Access: via cpsd (\(socketPath))"), "the stranger's socket was the route: \(result.stderr)")
            #expect(result.stderr.contains("runs as uid 65534, not as you (uid 0): cpsctl sends it nothing, no PIN"), "\(result.stderr)")
        }
        // The listener serves one connection at a time: once it has logged ours, it has logged cpsctl's.
        close(try DaemonProcess.connect(socketPath))
        try stranger.waitForOutput("from pid \(getpid()):")
        let lines = stranger.log.split(separator: "\n").filter { $0.hasPrefix("connection from pid") }
        #expect(lines.count >= 3, "cpsctl's probes reached the listener: \(lines)")
        #expect(lines.allSatisfy { $0.hasSuffix(": 0 bytes") }, "not a byte was sent to the stranger: \(lines)")
    }

    /// Binds as root in a root-owned 0700 directory, then becomes uid 65534 before listen(2): SO_PEERCRED
    /// gives the listener's credentials as of listen(). Logs, per connection, the client's pid and how
    /// many bytes it sent before closing (or 2 s of silence).
    static let strangerListener = """
        import os, socket, struct, sys
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(sys.argv[1])
        os.setgid(65534)
        os.setuid(65534)
        server.listen(8)
        print("listening as uid", os.getuid(), flush=True)
        while True:
            connection, _ = server.accept()
            pid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            connection.settimeout(2)
            total = 0
            try:
                while True:
                    data = connection.recv(4096)
                    if not data:
                        break
                    total += len(data)
            except OSError:
                pass
            connection.close()
            print(f"connection from pid {pid}: {total} bytes", flush=True)
        """

    /// The socket file's inode (attributesOfItem does not follow symlinks).
    static func inode(_ path: String) throws -> UInt64 {
        let number = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber
        return try #require(number).uint64Value
    }
}
