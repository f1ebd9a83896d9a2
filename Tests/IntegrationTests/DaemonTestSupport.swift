import CardTestSupport
import Foundation
import Glibc
import Testing
import VirtualCard

/// Shared plumbing of the cpsd end-to-end suites: the card's identifiers, a daemon on the real stack,
/// pkcs11-tool through p11-kit-client.so, and PyKCS11 clients in their own processes.
enum DaemonTest {
    static let authID = "e828bd080f8025000001ff001002"
    static let sigID = "e828bd080f8025000001ff001001"
    static let tokenLabel = "CPS3v3-\(TestCards.defaultState.serial)"
    static let pkcs11Tool = "/usr/bin/pkcs11-tool"
    static let python = "/usr/bin/python3"

    /// Runs `body` with the real stack (fresh cards: full PIN tries, no verified state; with
    /// `singleCard`, reader 1 is emptied so there is one token) and a cpsd serving it. The daemon is
    /// stopped afterwards, and a clean stop (exit 0, socket file removed) is part of every test.
    static func withDaemon<R>(
        singleCard: Bool = false, cards states: [CardState]? = nil, _ body: (RealStack, DaemonProcess) async throws -> R
    ) async throws -> R {
        try await RealStack.withStack { stack in
            if let states {
                // The stack starts with a card in every reader: the readers beyond `states` are emptied.
                try stack.insertFreshCards(states)
                for reader in states.count..<RealStack.readerCount { try stack.removeCard(reader: reader) }
            } else {
                try stack.insertFreshCard(reader: 0)
                if singleCard {
                    try stack.removeCard(reader: 1)
                } else {
                    try stack.insertFreshCard(reader: 1)
                }
            }
            let daemon = try DaemonProcess(environment: stack.environment)
            do {
                try waitForTokens(daemon, count: states?.count ?? (singleCard ? 1 : 2))
                let result = try await body(stack, daemon)
                let clean = daemon.stop()
                #expect(clean, "cpsd stopped uncleanly (status \(daemon.exitStatus ?? -1)):\n\(daemon.logTail())")
                return result
            } catch {
                daemon.stop()
                throw error
            }
        }
    }

    /// Runs `body` with one card (reader 1 emptied) and a cpsd without its bridge whose cpsd.conf is
    /// `configuration`. Unlike `withDaemon`, how cpsd stops is not judged: a test may have killed it.
    static func withConfiguredDaemon(
        _ configuration: String, _ body: (RealStack, DaemonProcess) async throws -> Void
    ) async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try stack.removeCard(reader: 1)
            let directory = TestCards.temporaryDirectory("cpsd-configured")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("cpsd.conf").path
            try configuration.write(toFile: path, atomically: true, encoding: .utf8)
            let daemon = try DaemonProcess(environment: stack.environment, arguments: ["--no-bridge", "--config", path])
            defer { daemon.stop() }
            try waitForTokens(daemon, count: 1)
            try await body(stack, daemon)
        }
    }

    /// Waits until `pkcs11-tool -L` lists `count` tokens. Right after start cpsd may list the readers
    /// before it has read their cards, so a client briefly sees empty slots (a known gap, reported; with
    /// CPSD_TEST_DUMP set the number of empty listings is printed).
    static func waitForTokens(_ daemon: DaemonProcess, count: Int) throws {
        for attempt in 0..<100 {
            let listing = try tool(daemon, ["-L"])
            if listing.stdout.components(separatedBy: "token label").count - 1 >= count {
                if ProcessInfo.processInfo.environment["CPSD_TEST_DUMP"] != nil {
                    print("DUMP tokens listed after \(attempt) empty listing(s)")
                }
                return
            }
            usleep(100_000)
        }
    }

    /// `pkcs11-tool --module p11-kit-client.so ARGS` against `daemon`.
    static func tool(_ daemon: DaemonProcess, _ arguments: [String], timeout: Double = 60) throws -> ToolRunner.Result {
        try ToolRunner.run(
            pkcs11Tool, ["--module", DaemonProcess.clientModule] + arguments, environment: daemon.environment,
            timeout: timeout)
    }

    /// Signs `input` with `pkcs11-tool --sign` and checks the signature with OpenSSL against the
    /// certificate of the same key read from the token. Returns nil when both worked, else what failed.
    static func signAndVerify(
        _ daemon: DaemonProcess, keyID: String, mechanism: String, in directory: URL
    ) throws -> String? {
        let dir = directory.path
        let name = "\(keyID.suffix(4))-\(mechanism)"
        let cert = try tool(daemon, ["--read-object", "--type", "cert", "--id", keyID, "-o", "\(dir)/\(name).der"])
        guard cert.status == 0 else { return "read cert \(keyID): \(cert.output)" }
        let prepare = try ToolRunner.shell(
            "cd \(dir) && printf 'ordonnance 27/11' > data && openssl dgst -sha256 -binary data > data.sha256 "
                + "&& openssl x509 -inform DER -in \(name).der -pubkey -noout > \(name).pub")
        guard prepare.status == 0 else { return "prepare: \(prepare.output)" }
        var input = "\(dir)/data"
        var verify = ""
        switch mechanism {
        case "RSA-PKCS":
            // DigestInfo(SHA-256, digest), the input a TLS 1.2 client signature hands to CKM_RSA_PKCS.
            let prefix: [UInt8] = [
                0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
                0x04, 0x20,
            ]
            let digest = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/data.sha256"))
            try (Data(prefix) + digest).write(to: URL(fileURLWithPath: "\(dir)/data.di"))
            input = "\(dir)/data.di"
            verify = "openssl pkeyutl -verify -pubin -inkey \(name).pub -in data.di -sigfile \(name).sig"
        case "SHA1-RSA-PKCS":
            verify = "openssl dgst -sha1 -verify \(name).pub -signature \(name).sig data"
        default:
            verify = "openssl dgst -sha256 -verify \(name).pub -signature \(name).sig data"
        }
        let sign = try tool(daemon, [
            "--sign", "--login", "--pin", "1234", "--id", keyID, "-m", mechanism, "-i", input, "-o", "\(dir)/\(name).sig",
        ])
        guard sign.status == 0 else { return "sign \(keyID) \(mechanism): \(sign.output)" }
        let check = try ToolRunner.shell("cd \(dir) && \(verify)")
        guard check.status == 0, check.stdout.contains("Verified") else { return "verify \(name): \(check.output)" }
        return nil
    }

    /// A TCP port free on 127.0.0.1 right now.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw DaemonProcessError("no free port: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// One PyKCS11 consumer in its own python process, driven with JSON lines (see `DaemonClientScript`).
final class PythonClient {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private lazy var reader = JSONLineReader(fd: output.fileHandleForReading.fileDescriptor)
    let scriptPath: String
    let errorPath: String

    init(environment: [String: String]) throws {
        let directory = TestCards.temporaryDirectory("cpsd-py")
        scriptPath = directory.appendingPathComponent("client.py").path
        errorPath = directory.appendingPathComponent("stderr").path
        try DaemonClientScript.source.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: DaemonTest.python)
        process.arguments = [scriptPath, DaemonProcess.clientModule]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: scriptPath).deletingLastPathComponent().path)
    }

    var pid: Int32 { process.processIdentifier }

    /// Sends one command and returns its answer; throws when the client dies or says nothing in `timeout`.
    @discardableResult
    func send(_ command: [String: Any], timeout: Double = 60) throws -> [String: Any] {
        let line = try JSONSerialization.data(withJSONObject: command) + Data([0x0A])
        try input.fileHandleForWriting.write(contentsOf: line)
        return try readAnswer(timeout: timeout)
    }

    func readAnswer(timeout: Double = 60) throws -> [String: Any] {
        try reader.next(timeout: timeout, who: "python client", context: stderr)
    }

    /// The error code of a failed answer, or "ok".
    static func outcome(_ answer: [String: Any]) -> String {
        answer["ok"] as? Bool == true ? "ok" : (answer["error"] as? String ?? "?")
    }

    var stderr: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// SIGKILL, then reaps it.
    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
