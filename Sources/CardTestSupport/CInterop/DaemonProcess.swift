import ErrorShape
package import Foundation
import Glibc
import SmartCardCore

/// The built `cpsd`, run as a child of the test process on a private socket, for end-to-end tests with
/// stock PKCS#11 consumers (p11-kit-client.so, p11tool, NSS, PyKCS11).
///
/// cpsd runs as a ``WatchedProcess``: it never outlives the test process, even a crashed one.
package final class DaemonProcess: Sendable {
    /// p11-kit's client module, the only thing a consumer loads to reach cpsd.
    package static let clientModule = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"

    /// The private directory: `pkcs11` (the socket) and `cpsd.log`.
    package let directory: URL
    /// The cpsd under test: this build's, or `CPSD_EXECUTABLE` (e.g. an address-sanitizer build, see
    /// scripts/asan-check.sh).
    package static var defaultExecutable: String {
        ProcessInfo.processInfo.environment["CPSD_EXECUTABLE"] ?? ToolRunner.executable("cpsd")
    }
    package let socketPath: String
    package let logPath: String
    private let baseEnvironment: [String: String]
    private let process: WatchedProcess

    /// Starts `cpsd --socket <dir>/pkcs11 ARGUMENTS` with `environment` (the stack's PCSCLITE_CSOCK_NAME)
    /// and waits (up to `timeout`) until the socket accepts connections. The bridge is off unless a test
    /// asks for it: it would otherwise make a CA in the user's home and compete for one port.
    package init(
        environment: [String: String], arguments: [String] = ["--no-bridge"],
        executable: String = DaemonProcess.defaultExecutable, logLevel: String = "debug", timeout: Duration = .seconds(20)
    ) throws {
        directory = URL(fileURLWithPath: "/tmp/cpsd-dp-\(UUID().uuidString.prefix(8))", isDirectory: true)
        // 0700: cpsd serves only from a directory that is the user's alone.
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        socketPath = directory.appendingPathComponent("pkcs11").path
        logPath = directory.appendingPathComponent("cpsd.log").path
        baseEnvironment = environment
        process = try WatchedProcess(
            executable, ["--socket", socketPath, "--log-level", logLevel] + arguments, logPath: logPath,
            environment: environment)
        let deadline = ContinuousClock.now + timeout
        while !Self.accepts(socketPath) {
            if process.hasExited || ContinuousClock.now >= deadline {
                stop()
                throw DaemonProcessError("cpsd did not listen on \(socketPath):\n\(logTail())")
            }
            usleep(20_000)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// What a PKCS#11 consumer needs: P11_KIT_SERVER_ADDRESS for p11-kit-client.so, and the stack's
    /// PCSCLITE_CSOCK_NAME (for tools that also talk to pcscd).
    package var environment: [String: String] {
        baseEnvironment.merging(["P11_KIT_SERVER_ADDRESS": "unix:path=\(socketPath)"]) { $1 }
    }

    /// cpsd's process id.
    package var pid: Int32 { process.pid }

    /// True once cpsd has exited.
    package var hasExited: Bool { process.hasExited }

    /// cpsd's exit status once it has exited by itself.
    package var exitStatus: Int32? { process.exitStatus }

    /// Sends SIGTERM (through the watchdog) and waits for cpsd to exit; SIGKILL after 10 s.
    /// Returns true when cpsd exited by itself and removed its socket file.
    @discardableResult
    package func stop() -> Bool {
        process.stop() && !FileManager.default.fileExists(atPath: socketPath)
    }

    /// The last lines of cpsd's log, for failure messages.
    /// A crash report (Swift's backtracer) is shown from its first line, with its crashing thread's frames,
    /// rather than cut to its last lines (registers and images).
    package func logTail(lines: Int = 30) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no cpsd log)" }
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)
        if let crash = all.lastIndex(where: { $0.contains("Program crashed") }) {
            return all[max(all.startIndex, crash - 5)...].prefix(lines + 60).joined(separator: "\n")
        }
        return all.suffix(lines).joined(separator: "\n")
    }

    /// The whole log (e.g. to look for audit lines).
    package var log: String { process.log }

    // MARK: - Raw socket access

    /// Connects to the socket, writes `bytes`, then reads until the daemon closes the connection or
    /// `timeout` passes, and closes. Returns what the daemon answered (for malformed-frame tests).
    package func exchangeRaw(_ bytes: [UInt8], timeout: Double = 5) throws -> [UInt8] {
        let fd = try Self.connect(socketPath)
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }  // The daemon may hang up early: that is an answer too.
            written += n
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            answer += buffer[0..<n]
        }
        return answer
    }

    package static func accepts(_ path: String) -> Bool {
        guard let fd = try? connect(path) else { return false }
        close(fd)
        return true
    }

    package static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonProcessError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw DaemonProcessError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw DaemonProcessError("connect \(path): errno \(code)")
        }
        return fd
    }
}

/// A process under test that did not start or answer. One code (every such failure fails the test alike), so
/// `init` takes the reason; the description is the reason alone, as test failures print it.
package struct DaemonProcessError: CodedError {
    package enum Code: String, ErrorCode {
        case processFailed = "process failed"
    }

    package let code: Code
    package let reason: String

    package init(_ reason: String) {
        self.code = .processFailed
        self.reason = reason
    }

    package var description: String { reason }
}
