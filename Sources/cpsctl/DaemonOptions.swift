import ArgumentParser
import Foundation
import P11KitClient

/// Which way a card command goes: through a running cpsd (as a PKCS#11 client of p11-kit-client.so),
/// or straight to pcscd. When cpsd runs it owns the readers, so going through it avoids two programs
/// fighting over the card; the direct path is for when no daemon answers, or when --direct asks.
struct DaemonOptions: ParsableArguments {
    @Option(
        name: .customLong("daemon-socket"),
        help: "cpsd's PKCS#11 socket (default: $P11_KIT_SERVER_ADDRESS, else $XDG_RUNTIME_DIR/p11-kit/pkcs11).")
    var daemonSocket: String?

    @Flag(name: .long, help: "Talk to pcscd directly, even when cpsd runs.")
    var direct = false

    /// The daemon to go through, or nil for the direct path; says on stderr which one was chosen.
    func route(environment: [String: String] = ProcessInfo.processInfo.environment) -> DaemonRoute? {
        guard !direct else {
            Self.announce("direct (PC/SC, --direct)")
            return nil
        }
        let path = daemonSocket ?? DaemonRoute.defaultSocketPath(environment: environment)
        guard let path, UnixSocketProbe.accepts(path) else {
            Self.announce("direct (PC/SC; no cpsd answers at \(path ?? "the p11-kit address"))")
            return nil
        }
        Self.announce("via cpsd (\(path))")
        return DaemonRoute(socketPath: path)
    }

    private static func announce(_ access: String) {
        FileHandle.standardError.write(Data("Access: \(access)\n".utf8))
    }
}
