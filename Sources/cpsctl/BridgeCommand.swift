import ArgumentParser
import BridgeClient
import BridgeProtocol
import Foundation
import LocalCA
import NIOHTTP1

/// `cpsctl bridge`: the browser bridge seen from the command line: is it up, which extensions are
/// paired, and unpairing them.
struct BridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "The browser bridge: status, paired extensions, unpairing.",
        subcommands: [BridgeStatus.self, BridgePairings.self, BridgeUnpair.self]
    )
}

struct BridgeStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Ask cpsd's bridge for its status, as the extension does.")

    @Option(name: .long, help: "The bridge's port.")
    var port = BridgeEndpoint.defaultPort

    func run() async throws {
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory())
        guard let certificate = try? store.load()?.certificatePEM else {
            throw CLIError("no bridge certificate in \(store.directory.path): cpsd has not started its bridge yet.")
        }
        let client: BridgeHTTPSClient
        do {
            client = try BridgeHTTPSClient(port: port, pinnedCertificatePEM: certificate)
        } catch {
            throw CLIError("nothing answers on 127.0.0.1:\(port), or not cpsd's bridge: \(error)")
        }
        let answer = try client.send(.GET, "/v1/status", headers: [
            ("Origin", "chrome-extension://\(BridgeExtensionIDs.chromium)"), ("X-CPS-Bridge", "1"),
        ])
        print(String(decoding: answer.body, as: UTF8.self))
        if answer.status != 200 { throw ExitCode(1) }
    }
}

struct BridgePairings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairings", abstract: "List the browser extensions paired with cpsd.")

    func run() async throws {
        let file = PairingFile(path: PairingFile.defaultPath())
        let paired = file.load()
        if paired.isEmpty { print("No extension is paired (\(file.path)).") }
        for entry in paired {
            print("\(entry.origin)  paired \(entry.created.formatted(.iso8601))")
        }
    }
}

struct BridgeUnpair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpair", abstract: "Revoke an extension's pairing (it must pair again, with a new code).")

    @Argument(help: "The extension origin to unpair, as `cpsctl bridge pairings` shows it.")
    var origin: String?

    @Flag(name: .long, help: "Unpair every extension.")
    var all = false

    func validate() throws {
        guard all != (origin != nil) else { throw ValidationError("give an origin or --all") }
    }

    func run() async throws {
        let file = PairingFile(path: PairingFile.defaultPath())
        let before = file.load()
        let after = all ? [] : before.filter { $0.origin != origin }
        guard after.count < before.count else {
            print("Nothing to unpair.")
            return
        }
        do {
            try file.save(after)
        } catch {
            throw CLIError(error.reason)
        }
        for entry in before where !after.contains(entry) { print("unpaired \(entry.origin)") }
    }
}
