import ArgumentParser
import Foundation

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

/// A cpsd that answered at `socketPath`.
struct DaemonRoute: Equatable {
    let socketPath: String

    /// The address p11-kit-client.so is given: `unix:path=` with the path escaped as p11-kit decodes it.
    var serverAddress: String {
        let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/.".utf8)
        let escaped = socketPath.utf8.map { byte in
            plain.contains(byte) ? String(UnicodeScalar(byte)) : String(format: "%%%02x", byte)
        }
        return "unix:path=" + escaped.joined()
    }

    /// Where p11-kit-client.so itself would look: P11_KIT_SERVER_ADDRESS (`unix:path=…`), else
    /// `$XDG_RUNTIME_DIR/p11-kit/pkcs11`, else `/run/user/<uid>/p11-kit/pkcs11`.
    static func defaultSocketPath(environment: [String: String]) -> String? {
        if let address = environment["P11_KIT_SERVER_ADDRESS"] {
            guard address.hasPrefix("unix:path=") else { return nil }
            let encoded = String(address.dropFirst("unix:path=".count))
            return encoded.removingPercentEncoding ?? encoded
        }
        let runtime = environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(UnixSocketProbe.userID)"
        return runtime + "/p11-kit/pkcs11"
    }
}
