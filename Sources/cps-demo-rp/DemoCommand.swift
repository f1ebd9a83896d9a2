import ArgumentParser
import CardIdentity
import DemoRelyingParty
import Foundation
import WebEid
import WebEidRelyingParty

/// cps-demo-rp: a relying party to try cpsd against, on 127.0.0.1 only. The login page logs in with a
/// Web eID token from cpsd's bridge (through the WebExtension); the second port does TLS client
/// authentication with the card, like Pro Santé Connect today. It trusts cpsd's test PKI by default.
@main
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cps-demo-rp",
        abstract: "Demo relying party: CPS card login with a Web eID token from cpsd, and TLS client authentication.",
        discussion: """
            Prints the page addresses, the CA file a browser must trust (when the demo made its own certificate), \
            then "ready". Stops on SIGINT or SIGTERM. Port 0 picks a free port (the origin follows it).
            """)

    @Option(help: "Port of the login page (origin https://localhost:PORT).")
    var port = 8443

    @Option(help: "Port of the TLS client authentication page (TLS 1.2, card certificate).")
    var tlsClientPort = 8444

    @Option(help: "The origin tokens must be bound to (default https://localhost:PORT).")
    var origin: String?

    @Option(help: "Directory of trusted IGC-Santé roots and intermediates, PEM (repeatable; default: cpsd's test PKI).")
    var trust: [String] = []

    @Option(help: "Server certificate chain, PEM (with --tls-key); default: a local CA's certificate in --state-dir.")
    var tlsCert: String?

    @Option(help: "Server private key, PEM.")
    var tlsKey: String?

    @Option(help: "Where the local CA and the server certificate are kept (default $XDG_STATE_HOME/cps-demo-rp).")
    var stateDir: String?

    @Option(help: "The page library served as /cps-bridge.js (default: Packaging/webextension/page/cps-bridge.js).")
    var pageLibrary: String?

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        for value in [port, tlsClientPort] where !(0...65_535).contains(value) {
            throw ValidationError("ports are 0 (any free port) to 65535")
        }
        if let origin {
            do { _ = try WebOrigin(validating: origin) } catch { throw ValidationError("--origin: \(error.reason)") }
        }
    }

    func run() async throws {
        let trustStore = try loadTrustStore()
        let identity = try serverIdentity()
        let login = try await DemoHTTPServer.bind(host: Self.host, port: port, tls: DemoTLS.loginConfiguration(identity))
        let clientAuthentication = try await DemoHTTPServer.bind(
            host: Self.host, port: tlsClientPort,
            tls: try DemoTLS.clientAuthenticationConfiguration(identity, trustStore: trustStore), clientCertificates: true)
        let siteOrigin = try WebOrigin(validating: origin ?? "https://localhost:\(login.port)")
        let clientAuthenticationURL = "https://localhost:\(clientAuthentication.port)/"
        // Found by its folder: the page library may be added to the tree while the demo runs.
        let library = pageLibrary.map { URL(fileURLWithPath: $0) }
            ?? SourceTree.find("Packaging/webextension")?.appendingPathComponent("page/cps-bridge.js")
            ?? URL(fileURLWithPath: "/usr/share/cpsd/webextension/page/cps-bridge.js")
        let loginApp = WebEidLoginApp(
            origin: siteOrigin, trustStore: trustStore, pageLibrary: library, clientAuthenticationURL: clientAuthenticationURL)
        let clientApp = ClientCertificateApp(trustStore: trustStore, loginPageURL: "https://localhost:\(login.port)/")

        Self.say("login page: https://localhost:\(login.port)/ (origin \(siteOrigin.serialized))")
        Self.say("TLS client authentication: \(clientAuthenticationURL)")
        Self.say("page library: \(library.path)\(FileManager.default.fileExists(atPath: library.path) ? "" : " (missing)")")
        if let caPath = identity.caPath { Self.say("TLS CA (trust it in the browser profile): \(caPath)") }
        Self.say("ready")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await login.run(log: Self.log, loginApp.handle) }
            group.addTask { try await clientAuthentication.run(log: Self.log, clientApp.handle) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Loopback only: this is a demo for the local browser.
    static let host = "127.0.0.1"

    private func loadTrustStore() throws -> TrustStore {
        var directories = trust
        if directories.isEmpty {
            directories = [SourceTree.find("Packaging/trust/test")?.path ?? "/usr/share/cpsd/trust/test"]
        }
        var store = TrustStore()
        for directory in directories {
            guard FileManager.default.fileExists(atPath: directory) else {
                throw ValidationError("--trust \(directory): no such directory")
            }
            // The kind is informational here: the demo trusts whatever it is given.
            try store.load(directory: URL(fileURLWithPath: directory), kind: .test)
        }
        guard !store.roots.isEmpty else { throw ValidationError("no trusted root in \(directories.joined(separator: ", "))") }
        return store
    }

    private func serverIdentity() throws -> DemoTLS.ServerIdentity {
        if let tlsCert, let tlsKey { return try DemoTLS.identity(certificatePEM: tlsCert, keyPEM: tlsKey) }
        let directory = stateDir.map { URL(fileURLWithPath: $0) } ?? Self.defaultStateDirectory()
        let (identity, created) = try DemoTLS.localIdentity(stateDirectory: directory)
        if created { Self.say("made a new local CA: the browser must trust it again") }
        return identity
    }

    static func defaultStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return URL(fileURLWithPath: base).appendingPathComponent("cps-demo-rp", isDirectory: true)
    }

    /// Requests and connection failures, on standard error.
    static func log(_ line: String) {
        FileHandle.standardError.write(Data("cps-demo-rp: \(line)\n".utf8))
    }

    /// One line on standard output, written at once (a test or a script waits for "ready").
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data("cps-demo-rp: \(line)\n".utf8))
    }
}

/// Files of the source tree, found from the executable's place in `<repo>/.build/<config>/`.
enum SourceTree {
    static func find(_ relativePath: String) -> URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent(relativePath)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}
