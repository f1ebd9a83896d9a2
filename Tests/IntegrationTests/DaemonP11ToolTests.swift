import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualCard

/// GnuTLS's p11tool through p11-kit-proxy with a system module file naming p11-kit-client.so (the
/// shipped Packaging/p11-kit/cpsd.module, with an absolute path: p11-kit ignores user configuration
/// when running as root), pointed at the test daemon with P11_KIT_SERVER_ADDRESS.
@Suite("cpsd through p11-kit-proxy and p11tool")
struct DaemonP11ToolTests {
    static let p11tool = "/usr/bin/p11tool"
    static let modulesDirectory = "/etc/pkcs11/modules"

    /// Installs the module file for the duration of `body`; removes it (and the directory if this made it).
    static func withModuleFile<R>(_ body: () throws -> R) throws -> R {
        let files = FileManager.default
        let madeDirectory = !files.fileExists(atPath: modulesDirectory)
        try files.createDirectory(atPath: modulesDirectory, withIntermediateDirectories: true)
        let path = "\(modulesDirectory)/cpsd-test-\(getpid()).module"
        defer {
            try? files.removeItem(atPath: path)
            if madeDirectory { rmdir(modulesDirectory) }
        }
        try "module: \(DaemonProcess.clientModule)\ncritical: no\n".write(toFile: path, atomically: true, encoding: .utf8)
        return try body()
    }

    /// The URL p11tool prints for cpsd's token (manufacturer ASIP SANTE, served by p11-kit-client.so),
    /// from `--list-tokens` output: blocks of "Token N:" lines.
    static func cpsdTokenURLs(_ listing: String) -> [String] {
        listing.components(separatedBy: "Token ").compactMap { block in
            guard block.contains("Manufacturer: ASIP SANTE"), block.contains("token=\(DaemonTest.tokenLabel)"),
                let line = block.split(separator: "\n").first(where: { $0.contains("URL: ") })
            else { return nil }
            return line.components(separatedBy: "URL: ").last.map { String($0) }
        }
    }

    @Test("--list-tokens, --list-all-certs and --test-sign with the authentication key through cpsd")
    func listAndTestSign() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            try Self.withModuleFile {
                let env = daemon.environment
                let tokens = try ToolRunner.run(Self.p11tool, ["--list-tokens"], environment: env)
                #expect(tokens.status == 0, "\(tokens.output)")
                let urls = Self.cpsdTokenURLs(tokens.stdout)
                // OpenSC's module (also registered by Debian) shows the same card through pcscd; cpsd's
                // token is the one whose library is p11-kit's client.
                #expect(urls.count >= 1, "\(tokens.stdout)")
                let cpsdURL = try #require(
                    urls.first { $0.contains("model=IAS%20ECC") } ?? urls.first, "\(tokens.stdout)")
                let modules = try ToolRunner.run(Self.p11tool, ["--list-token-urls"], environment: env)
                #expect(modules.stdout.contains(DaemonTest.tokenLabel), "\(modules.output)")

                let certs = try ToolRunner.run(Self.p11tool, ["--list-all-certs", cpsdURL], environment: env)
                #expect(certs.status == 0, "\(certs.output)")
                #expect(certs.stdout.contains("Certificat d%27Authentification CPS") || certs.stdout.contains("Certificat d'Authentification CPS"), "\(certs.stdout)")
                #expect(certs.stdout.contains("Certificat de Signature CPS"), "\(certs.stdout)")

                let key = "pkcs11:token=\(DaemonTest.tokenLabel);object=CPS_PRIV_AUT"
                let sign = try ToolRunner.run(
                    Self.p11tool, ["--login", "--test-sign", key], environment: env.merging(["GNUTLS_PIN": "1234"]) { $1 })
                #expect(sign.status == 0, "\(sign.output)\n\(daemon.logTail())")
                #expect(sign.output.contains("ok"), "\(sign.output)")
                #expect(!sign.output.lowercased().contains("failed"), "\(sign.output)")
                // The signature was made by cpsd for p11tool (its audit line), not by OpenSC's module.
                let audit = daemon.log.split(separator: "\n").filter {
                    $0.contains("audit=signature") && $0.contains("peer_exe=/usr/bin/p11tool")
                }
                #expect(audit.contains { $0.contains("key=CPS_PRIV_AUT") && $0.contains("result=ok") }, "\(daemon.logTail())")
                if ProcessInfo.processInfo.environment["CPSD_TEST_DUMP"] != nil {
                    print(tokens.stdout, certs.stdout, sign.output, daemon.log)
                }
                #expect(stack.cards[0].state.pin.triesLeft == 3)
            }
        }
    }
}
