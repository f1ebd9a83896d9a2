import CardTestSupport
import Foundation
import Glibc
import Testing

/// cpsd keeps accepting on its PKCS#11 socket when it runs out of file descriptors (issue 10, item 4):
/// started under `ulimit -n 64` (soft and hard, so raising the soft limit at start gains nothing).
@Suite("cpsd out of file descriptors")
struct DaemonLimitsTests {
    static let descriptorLimit = 64
    static let idleConnections = 70
    static let otherPKCS11Clients = 6

    @Test("70 idle PKCS#11 connections exhaust cpsd's 64 descriptors; once they close, cpsd accepts and signs again")
    func pkcs11SocketRecovers() async throws {
        try await RealStack.withStack { stack in
            try Self.prepareSingleCard(stack)
            let wrapper = try LimitedDaemon()
            defer { wrapper.remove() }
            let daemon = try DaemonProcess(environment: stack.environment, executable: wrapper.path)
            defer { daemon.stop() }
            try Self.expectLimit(daemon)
            try DaemonTest.waitForTokens(daemon, count: 1)
            var idle = IdleConnections()
            defer { idle.closeAll() }
            for _ in 0..<Self.idleConnections { idle.open(unixPath: daemon.socketPath, patience: .milliseconds(300)) }
            try Self.waitForLog(daemon, "accept failed")  // cpsd is out of descriptors
            #expect(daemon.log.contains("accept failed: EMFILE (Too many open files); retrying"))
            let before = Self.openDescriptors(daemon.pid)
            idle.closeAll()
            let listing = try DaemonTest.tool(daemon, ["-L"], timeout: 20)
            #expect(listing.stdout.contains("token label        : \(DaemonTest.tokenLabel)"), "\(listing.output)\n\(daemon.logTail())")
            try Self.waitForLog(daemon, "accepting again after")
            #expect(daemon.log.components(separatedBy: "accept failed").count == 2, "one log line per episode")
            print("cpsd descriptors: \(before) in use while exhausted (limit \(Self.descriptorLimit)); \(idle.opened) connections made")
            try DaemonRobustnessTests.expectServing(daemon, "running out of descriptors")
        }
    }

    @Test("70 idle bridge connections and 6 idle PKCS#11 clients under ulimit -n 64: pkcs11-tool -L still lists the token, and all works after")
    func bridgeCannotStarvePKCS11() async throws {
        try await RealStack.withStack { stack in
            try Self.prepareSingleCard(stack)
            let wrapper = try LimitedDaemon()
            defer { wrapper.remove() }
            let home = TestCards.temporaryDirectory("cpsd-limits-home")
            defer { try? FileManager.default.removeItem(at: home) }
            var environment = stack.environment
            environment["XDG_DATA_HOME"] = home.appendingPathComponent("data").path
            environment["XDG_STATE_HOME"] = home.appendingPathComponent("state").path
            let port = Int(try DaemonTest.freePort())
            let daemon = try DaemonProcess(
                environment: environment, arguments: ["--bridge-port", "\(port)", "--pinentry", BridgeHarness.pinentry],
                executable: wrapper.path)
            defer { daemon.stop() }
            let bridge = BridgeHarness(daemon: daemon, port: port, home: home)
            try bridge.waitUntilListening()
            try Self.expectLimit(daemon)
            try DaemonTest.waitForTokens(daemon, count: 1)
            var idle = IdleConnections()
            defer { idle.closeAll() }
            for _ in 0..<Self.idleConnections { idle.open(tcpPort: UInt16(port)) }
            usleep(1_000_000)  // let the bridge accept what it will
            // Other PKCS#11 clients (a browser, practice software) hold their connections meanwhile.
            for _ in 0..<Self.otherPKCS11Clients { idle.open(unixPath: daemon.socketPath, patience: .milliseconds(300)) }
            let held = Self.openDescriptors(daemon.pid)
            // Well within the 30 s after which the bridge drops a connection that sent no request.
            let listing = try DaemonTest.tool(daemon, ["-L"], timeout: 10)
            print("cpsd descriptors with \(Self.idleConnections) idle bridge and \(Self.otherPKCS11Clients) idle PKCS#11 connections: \(held) (limit \(Self.descriptorLimit))")
            #expect(listing.stdout.contains("token label        : \(DaemonTest.tokenLabel)"), "\(listing.output)\n\(daemon.logTail())")
            idle.closeAll()
            try DaemonRobustnessTests.expectServing(daemon, "70 idle bridge connections")
            let status = try bridge.call("GET", "/v1/status")
            #expect(status.status == 200, "the bridge answers again: \(status.status) \(status.body)")
        }
    }

    @Test("cpsd raises its soft descriptor limit to the hard one at start, and logs both")
    func softLimitRaised() throws {
        // No stack (and no other test's pcscd): the limit is set before PC/SC is touched.
        let wrapper = try LimitedDaemon(limits: "ulimit -Sn 64 && ulimit -Hn 128")
        defer { wrapper.remove() }
        let daemon = try DaemonProcess(environment: ["PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"], executable: wrapper.path)
        defer { daemon.stop() }
        let limits = try String(contentsOfFile: "/proc/\(daemon.pid)/limits", encoding: .utf8)
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        #expect(line.split(separator: " ").compactMap { Int($0) } == [128, 128], "\(line)")
        try Self.waitForLog(daemon, "file descriptor limit")
        #expect(daemon.log.contains("hard=128 soft=128 soft_before=64"), "\(daemon.logTail())")
    }

    static func prepareSingleCard(_ stack: RealStack) throws {
        try stack.insertFreshCard(reader: 0)
        try stack.removeCard(reader: 1)
    }

    /// The limit really is 64, soft and hard, in cpsd itself (and cpsd logged both).
    static func expectLimit(_ daemon: DaemonProcess) throws {
        let limits = try String(contentsOfFile: "/proc/\(daemon.pid)/limits", encoding: .utf8)
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        #expect(numbers == [descriptorLimit, descriptorLimit], "\(line)")
        try waitForLog(daemon, "file descriptor limit")
        #expect(daemon.log.contains("hard=\(descriptorLimit)"), "\(daemon.logTail())")
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    static func waitForLog(_ daemon: DaemonProcess, _ text: String, timeout: Double = 15) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !daemon.log.contains(text) {
            guard Date() < deadline, !daemon.hasExited else {
                throw DaemonProcessError("no \"\(text)\" in cpsd's log:\n\(daemon.logTail())")
            }
            usleep(50_000)
        }
    }
}

/// A script that starts cpsd with `ulimit -n 64` (soft and hard) or other `limits`, exec'd so the pid,
/// the watchdog's SIGTERM and the exit status stay cpsd's.
private struct LimitedDaemon {
    let directory = TestCards.temporaryDirectory("cpsd-limits")
    var path: String { directory.appendingPathComponent("cpsd-ulimit").path }

    init(limits: String = "ulimit -n \(DaemonLimitsTests.descriptorLimit)") throws {
        let script = "#!/bin/sh\n\(limits) || exit 99\nexec \(ToolRunner.executable("cpsd")) \"$@\"\n"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        guard chmod(path, 0o755) == 0 else { throw DaemonProcessError("chmod \(path): errno \(errno)") }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Connections opened and left idle (non-blocking connects: a full backlog must not hang the test).
private struct IdleConnections {
    private var descriptors: [Int32] = []
    private(set) var opened = 0

    mutating func open(unixPath: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(unixPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        connect(AF_UNIX, &address)
    }

    mutating func open(tcpPort: UInt16) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = tcpPort.bigEndian
        connect(AF_INET, &address)
    }

    private mutating func connect<Address>(_ family: Int32, _ address: inout Address) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type, 0)
        guard fd >= 0 else { return }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        if result == 0 || errno == EINPROGRESS {
            descriptors.append(fd)
            opened += 1
        } else {
            close(fd)
        }
    }

    /// A Unix socket's backlog is short (16) and a full one refuses at once (EAGAIN): retry for up to
    /// 300 ms, so that the connections really reach cpsd's accept loop, up to its descriptor limit.
    mutating func open(unixPath: String, patience: Duration) {
        let deadline = ContinuousClock.now + patience
        let before = opened
        repeat {
            open(unixPath: unixPath)
            if opened > before { return }
            usleep(10_000)
        } while ContinuousClock.now < deadline
    }

    mutating func closeAll() {
        for fd in descriptors { close(fd) }
        descriptors = []
    }
}
