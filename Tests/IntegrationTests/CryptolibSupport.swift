import CardTestSupport
import Foundation
import Glibc
import Testing
import VirtualCard

/// The vendor's middleware, Cryptolib CPS 5.2.2, run unchanged against the real stack: its PKCS#11 module is
/// loaded by pkcs11-tool inside `scripts/cryptolib-env.sh`, which installs the package at its fixed paths in
/// a private mount namespace with traces on, so every APDU it exchanges lands in a log we parse.
enum Cryptolib {
    static let repositoryRoot = DiagRun.repositoryRoot
    static let environmentScript = repositoryRoot.appendingPathComponent("scripts/cryptolib-env.sh").path
    static let package = repositoryRoot.appendingPathComponent(
        "../shared/vendor/cryptolib-5.2.2/CryptolibCPS-5.2.2-1.x86_64.rpm"
    ).standardizedFileURL.path

    /// Why the harness cannot run here, or nil when it can. A missing piece fails the test with this text.
    static var missing: String? {
        if !FileManager.default.fileExists(atPath: package) { return "the vendor package \(package)" }
        if getuid() != 0 { return "root (the module's fixed paths get private mounts)" }
        for tool in ["/usr/bin/rpm2cpio", "/usr/bin/cpio", "/usr/bin/pkcs11-tool", "/usr/bin/unshare"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool): run scripts/install-deps.sh"
        }
        return nil
    }

    struct Run {
        let result: ToolRunner.Result
        /// Every command/response pair of every process the script ran, in order per process.
        let exchanges: [TraceExchange]
    }

    /// Runs `script` (bash; `$M` is the module's path, the working directory `directory`) against the
    /// stack's pcscd, with a fresh configuration, an empty card cache and an empty trace directory.
    static func run(_ script: String, stack: RealStack, in directory: URL, timeout: Double = 120) throws -> Run {
        let root = directory.appendingPathComponent("cryptolib-root")
        let wrapped = "cd '\(directory.path)' && M=\"$CRYPTOLIB_MODULE\" && set -e\n" + script
        let result = try ToolRunner.run(
            environmentScript, ["--root", root.path, "--", "bash", "-c", wrapped],
            environment: stack.environment.merging(["CRYPTOLIB_RPM": package]) { $1 }, timeout: timeout)
        return Run(result: result, exchanges: try CryptolibTrace.exchanges(in: root.appendingPathComponent("var/log")))
    }

    /// The exchanges that ended with a status a real CPS3 would not give: anything but 9000, 61xx (9Fxx on CLA A0),
    /// except 6A82 on the SELECT of EF_ACTUA (3F00/D010), absent from a card never updated (§11.2).
    static func unexpectedErrors(_ exchanges: [TraceExchange]) -> [TraceExchange] {
        exchanges.filter { exchange in
            let sw = exchange.statusWord
            // 9Fxx: "response available" on the CPS2ter side (CLA A0).
            if sw == 0x9000 || sw >> 8 == 0x61 || (sw >> 8 == 0x9F && exchange.command.first == 0xA0) { return false }
            let selectsActua = Array(exchange.command.prefix(2)) == [0x00, 0xA4]
                && exchange.command.suffix(4) == [0x3F, 0x00, 0xD0, 0x10]
            return !(sw == 0x6A82 && selectsActua)
        }
    }

    /// The exchanges whose status is anything but 9000 or 61xx: on a CPS4 (no EF_ACTUA, no CPS2ter reads),
    /// Cryptolib's normal work gets nothing else from a real card (cps4-card.md §8). The one exception is no
    /// error: `63Cx` to a VERIFY without data, which is how a CPS4 reports a retry counter (§6.2).
    static func errorStatuses(_ exchanges: [TraceExchange]) -> [TraceExchange] {
        exchanges.filter { exchange in
            let sw = exchange.statusWord
            if sw == 0x9000 || sw >> 8 == 0x61 { return false }
            let emptyVerify = exchange.command.count <= 5 && exchange.command.count >= 4 && exchange.command[1] == 0x20
                && (exchange.command.count == 4 || exchange.command[4] == 0x00)
            return !(emptyVerify && sw & 0xFFF0 == 0x63C0)
        }
    }

    /// pkcs11-tool's options for the first slot with the module, and the key IDs of the card (§4.2).
    static let tool = "pkcs11-tool --module \"$M\" --slot-index 0"
    static let signatureKeyID = "e828bd080f8025000001ff001001"
    static let authenticationKeyID = "e828bd080f8025000001ff001002"
    /// The CPS4's key IDs (cps4-card.md §5).
    static let cps4SignatureKeyID = "e828bd080f8025000001ff001010"
    static let cps4AuthenticationKeyID = "e828bd080f8025000001ff001020"
}

/// One APDU and its answer as the module logged them (debug level 9).
struct TraceExchange: CustomStringConvertible {
    let command: [UInt8]
    let response: [UInt8]

    var statusWord: UInt16 {
        response.count >= 2 ? UInt16(response[response.count - 2]) << 8 | UInt16(response[response.count - 1]) : 0
    }

    var description: String {
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02X", $0) }.joined(separator: " ") }
        return "\(hex(Array(command.prefix(16))))\(command.count > 16 ? " …" : "") → \(String(format: "%04X", statusWord))"
    }
}

/// The module's trace format: a header `Outgoing APDU data [   N bytes] ===…` or `Incoming …`, then lines of
/// up to 16 hex bytes followed by their ASCII rendering, then a line of `=`.
enum CryptolibTrace {
    static func exchanges(in logDirectory: URL) throws -> [TraceExchange] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory.path)) ?? []
        // The OpenSC-layer logs (cps3opsc_*) hold the APDUs; one file per process.
        return try names.filter { $0.hasPrefix("cps3opsc_") }.sorted().flatMap { name in
            parse(try String(contentsOf: logDirectory.appendingPathComponent(name), encoding: .isoLatin1))
        }
    }

    static func parse(_ text: String) -> [TraceExchange] {
        var exchanges: [TraceExchange] = []
        var outgoing: [UInt8]?
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            guard let (isOutgoing, count) = header(line) else { continue }
            var bytes: [UInt8] = []
            while bytes.count < count, let next = lines.first, !next.hasPrefix("=====") {
                lines.removeFirst()
                // Hex comes first on each line; the ASCII column after it is never read past `count`.
                for token in next.prefix(48).split(separator: " ") where bytes.count < count {
                    guard token.count == 2, let byte = UInt8(token, radix: 16) else { break }
                    bytes.append(byte)
                }
            }
            if isOutgoing {
                outgoing = bytes
            } else if let command = outgoing {
                exchanges.append(TraceExchange(command: command, response: bytes))
                outgoing = nil
            }
        }
        return exchanges
    }

    private static func header(_ line: Substring) -> (outgoing: Bool, count: Int)? {
        let outgoing = line.hasPrefix("Outgoing APDU data [")
        guard outgoing || line.hasPrefix("Incoming APDU data [") else { return nil }
        guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") else { return nil }
        let inside = line[line.index(after: open)..<close].replacingOccurrences(of: "bytes", with: "")
        guard let count = Int(inside.trimmingCharacters(in: .whitespaces)) else { return nil }
        return (outgoing, count)
    }
}

/// The steps every Cryptolib test shares: a fresh card alone on the stack, files, OpenSSL checks.
extension CryptolibInteropTests {
    /// A fresh default card in reader 0 and reader 1 empty (one token), and a scratch directory.
    /// Afterwards reader 0 gets a fresh default card again (reader 1's card comes back by itself): these tests
    /// change PINs and leave the card in CPS2ter, which the next suite on the shared stack must not inherit.
    static func withCard(
        _ state: CardState = TestCards.defaultState, _ body: (RealStack, URL) async throws -> Void
    ) async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(state, reader: 0)
            try stack.removeCard(reader: 1)
            let directory = TestCards.temporaryDirectory("cpsd-cryptolib")
            defer { try? FileManager.default.removeItem(at: directory) }
            do {
                try await body(stack, directory)
            } catch {
                try? stack.insertFreshCard(reader: 0)
                throw error
            }
            try stack.insertFreshCard(reader: 0)
        }
    }

    /// The module spoke to the card (the trace is not empty, and starts where a real session starts when
    /// `firstSelect` is given) and got no status a real CPS3 would not give.
    static func expectFaithfulTrace(_ run: Cryptolib.Run, firstSelect: [UInt8]? = nil) {
        #expect(!run.exchanges.isEmpty, "no APDU in the module's trace")
        if let firstSelect { #expect(run.exchanges.first?.command == firstSelect, "\(run.exchanges.prefix(3))") }
        let errors = Cryptolib.unexpectedErrors(run.exchanges)
        #expect(errors.isEmpty, "status words a real CPS3 does not give:\n\(errors.map(\.description).joined(separator: "\n"))")
    }

    /// DER DigestInfo(SHA-256, message) written to `file`: the input of CKM_RSA_PKCS on the signature key.
    static func writeDigestInfo(of message: Data, to file: URL) throws {
        let digest = try hexDigest(message)
        #expect(digest.count == 32)
        let prefix: [UInt8] = [
            0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
        ]
        try Data(prefix + digest).write(to: file)
    }

    private static func hexDigest(_ message: Data) throws -> [UInt8] {
        let result = try ToolRunner.run("/usr/bin/openssl", ["dgst", "-sha256", "-r"], stdin: message)
        let hex = result.stdout.prefix(64)
        return stride(from: 0, to: hex.count, by: 2).compactMap { offset in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
        }
    }

    /// Writes the certificate's public key as PEM in `directory`; returns its file name.
    static func publicKey(_ certificate: [UInt8], _ name: String, in directory: URL) throws -> String {
        try Data(certificate).write(to: directory.appendingPathComponent("\(name).der"))
        let result = try ToolRunner.shell(
            "cd '\(directory.path)' && openssl x509 -inform der -in \(name).der -pubkey -noout > \(name).pub")
        #expect(result.status == 0, "\(result.output)")
        return "\(name).pub"
    }

    /// The block a PKCS#1 v1.5 signature recovers to with the public key (OpenSSL removes the padding).
    static func recovered(file: String, key: String, in directory: URL) throws -> [UInt8] {
        let out = "\(file).recovered"
        let result = try ToolRunner.shell(
            "cd '\(directory.path)' && openssl pkeyutl -verifyrecover -pubin -inkey \(key) -in \(file) -out \(out)")
        #expect(result.status == 0, "\(file): \(result.output)")
        return contents(out, directory)
    }

    static func contents(_ name: String, _ directory: URL) -> [UInt8] {
        (try? Data(contentsOf: directory.appendingPathComponent(name))).map(Array.init) ?? []
    }
}
