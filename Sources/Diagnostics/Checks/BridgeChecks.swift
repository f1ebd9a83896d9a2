import BridgeProtocol
import Foundation
import LocalCA
import NIOSSL

/// The browser bridge (docs/bridge-protocol.md): is it listening and answering as the extension expects,
/// who holds its port, is its CA trusted by the browsers, is the extension installed.
extension DiagRunner {
    static let bridgeCheckIDs = ["bridge.listening", "bridge.port", "bridge.ca", "bridge.extension"]

    func bridgeChecks() {
        let processes = environment.processes
        let daemon = daemonPID.map(processes.process)
        let settings = BridgeSettings.resolve(in: environment, daemon: daemon, portOverride: options.bridgePort)
        guard settings.enabled else {
            for id in Self.bridgeCheckIDs { add(.skip(id, "the bridge is off: \(settings.disabledBy ?? "by configuration")")) }
            return
        }
        let listeners = TCPListeners.listening(on: settings.port, files: environment.files)
        let owners = processes.owners(of: Set(listeners.map(\.inode)), first: daemonPID.map { [$0] } ?? [])
        // cpsd is not dumpable (PIN memory): its own user cannot list its sockets in /proc, so a listener of
        // this user's uid that no visible process owns, while cpsd runs, is taken for cpsd's — the HTTPS probe
        // of bridge.listening then checks it answers as cpsd's bridge, with this user's CA.
        let hiddenOwnDaemon =
            owners.isEmpty && daemonPID != nil && !listeners.isEmpty
            && listeners.allSatisfy { $0.uid == environment.sockets.userID }
        let servedByDaemon = hiddenOwnDaemon || (!owners.isEmpty && owners.allSatisfy { $0.pid == daemonPID })
        listeningCheck(settings, listeners: listeners, servedByDaemon: servedByDaemon)
        portCheck(settings, listeners: listeners, owners: owners, hiddenOwnDaemon: hiddenOwnDaemon)
        bridgeCACheck(listening: servedByDaemon)
        extensionCheck(settings)
    }

    /// GET /v1/status as the extension sends it, TLS verified against the local CA only.
    private func listeningCheck(_ settings: BridgeSettings, listeners: [TCPListeners.Listener], servedByDaemon: Bool) {
        let port = settings.port
        guard !listeners.isEmpty else {
            if let daemonPID {
                add(.fail(
                    "bridge.listening", "cpsd (pid \(daemonPID)) runs, but nothing listens on 127.0.0.1:\(port) (\(settings.portSource)): its bridge did not start",
                    remedy: "Look for \"bridge not started\" in cpsd's log (journalctl --user -u cpsd), fix the cause, then systemctl --user restart cpsd."))
            } else {
                add(.skip("bridge.listening", "cpsd is not running: its bridge (port \(port)) starts with it"))
            }
            return
        }
        let addresses = Set(listeners.map(\.address))
        let where_ = addresses.contains("::1") || addresses.contains("::") ? "127.0.0.1:\(port) and [::1]:\(port)" : "127.0.0.1:\(port)"
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory(environment: environment.variables))
        guard let caPEM = environment.files.text(store.caPath) else {
            add(.fail(
                "bridge.listening", "something listens on port \(port), but there is no local CA (\(store.caPath)) to check it is cpsd's bridge",
                remedy: "Restart cpsd (systemctl --user restart cpsd): it makes its CA and certificate; then run cpsctl setup."))
            return
        }
        do {
            let answer = try environment.bridge.status(port: port, caPEM: caPEM)
            let json = answer.json
            let proto = json["protocol"] as? String
            let version = json["version"] as? String ?? "unknown"
            if answer.status == 200, proto == Self.bridgeProtocol {
                add(.ok("bridge.listening", "\(Self.bridgeProtocol) answers on \(where_) (\(settings.portSource)), TLS verified with the local CA, cpsd version \(version)"))
            } else if answer.status == 200, let proto {
                add(.warn(
                    "bridge.listening", "the bridge on port \(port) speaks \(proto) (version \(version)); this cpsctl knows \(Self.bridgeProtocol)",
                    remedy: "Install cpsctl and cpsd from the same release, so the diagnostic and the extension's protocol match."))
            } else {
                add(.fail(
                    "bridge.listening", "port \(port) answers GET /v1/status with HTTP \(answer.status), not as cpsd's bridge",
                    remedy: "See bridge.port for the program holding the port."))
            }
        } catch {
            let remedy = servedByDaemon
                ? "The local CA was replaced since cpsd started: systemctl --user restart cpsd, then cpsctl setup."
                : "See bridge.port for the program holding the port."
            add(.fail("bridge.listening", "port \(port) does not answer as cpsd's bridge: \(Self.probeFailure(error, ca: store.caPath))", remedy: remedy))
        }
    }

    static let bridgeProtocol = BridgeEndpoint.protocolName

    /// Why the HTTPS probe failed, in a few words.
    static func probeFailure(_ error: any Error, ca: String) -> String {
        switch error {
        case NIOSSLError.handshakeFailed: "its TLS certificate does not chain to the local CA (\(ca))"
        case let error as NIOSSLExtraError where error == .failedToValidateHostname: "its TLS certificate is not for 127.0.0.1"
        default: "\(error)"
        }
    }

    /// Who holds the port: cpsd, another cpsd (a second one, or another user's), or another program.
    private func portCheck(
        _ settings: BridgeSettings, listeners: [TCPListeners.Listener], owners: [LocalProcess], hiddenOwnDaemon: Bool
    ) {
        let port = settings.port
        let move = "or move cpsd's bridge: `bridge-port = N` (a free port) in \(settings.configPath), then systemctl --user restart cpsd."
        if listeners.isEmpty {
            add(.ok("bridge.port", "port \(port) (\(settings.portSource)) is free for cpsd's bridge"))
        } else if let daemonPID, !owners.isEmpty, owners.allSatisfy({ $0.pid == daemonPID }) {
            add(.ok("bridge.port", "port \(port) (\(settings.portSource)) is held by cpsd (pid \(daemonPID))"))
        } else if hiddenOwnDaemon, let daemonPID {
            add(.ok(
                "bridge.port",
                "port \(port) (\(settings.portSource)) is held by a process of this user, cpsd (pid \(daemonPID)) as far as can be seen: cpsd is not dumpable, so its sockets are not listed"))
        } else if owners.isEmpty {
            let uids = Set(listeners.map(\.uid)).map(String.init).sorted().joined(separator: ", ")
            add(.fail(
                "bridge.port", "port \(port) (\(settings.portSource)) is held by a process of uid \(uids) that this user cannot see: cpsd's bridge cannot listen there",
                remedy: "Ask the administrator which program it is (sudo ss -ltnp sport = :\(port)), " + move))
        } else if owners.allSatisfy({ $0.name == "cpsd" }) {
            let serving = daemonPID.map { "the cpsd serving the PKCS#11 socket (pid \($0))" } ?? "a cpsd serving this user's PKCS#11 socket"
            add(.warn(
                "bridge.port", "port \(port) is held by another cpsd, \(owners.map(\.description).joined(separator: ", ")), not by \(serving)",
                remedy: "Run one cpsd per user session: stop the other one (or, on a shared computer, give each user its own bridge-port in ~/.config/cpsd/cpsd.conf)."))
        } else {
            let names = owners.filter { $0.name != "cpsd" }.map(\.description).joined(separator: ", ")
            add(.fail(
                "bridge.port", "port \(port) (\(settings.portSource)) is held by \(names): cpsd's bridge cannot listen there",
                remedy: "Close that program, " + move))
        }
    }
}
