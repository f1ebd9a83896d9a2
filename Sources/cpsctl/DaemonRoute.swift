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

extension DaemonRoute {
    /// Refuses a daemon that is not this user's before cpsctl sends it anything, PINs included.
    ///
    /// cpsctl talks to cpsd through p11-kit-client.so, which opens its own connection and does not show
    /// it, so the check is made on a probe connection to the same path (SO_PEERCRED: the uid of the
    /// process that listens, recorded by the kernel, not claimed by the peer). That is enough only if
    /// the socket cannot be swapped between the probe and p11-kit's connection, which takes write access
    /// to the directory holding it: so that directory must not be writable by another user either
    /// (cpsd itself serves only from the user's own 0700 directory). Root talking to a root cpsd is fine.
    func checkServerIsOurs(userID: UInt32 = UnixSocketProbe.userID) throws(CLIError) {
        guard let server = UnixSocketProbe.server(socketPath) else {
            throw CLIError("cpsd no longer answers at \(socketPath); nothing was sent.")
        }
        guard server.uid == userID else {
            throw CLIError(
                "The process answering at \(socketPath) (pid \(server.pid)) runs as uid \(server.uid), not as you "
                    + "(uid \(userID)): cpsctl sends it nothing, no PIN. Stop that program, or point cpsctl at your "
                    + "own cpsd with --daemon-socket.")
        }
        let directory = (socketPath as NSString).deletingLastPathComponent
        guard let status = UnixSocketProbe.directoryStatus(directory.isEmpty ? "." : directory) else {
            throw CLIError("cannot examine \(directory), the directory of cpsd's socket; nothing was sent.")
        }
        let othersMayWrite = status.mode & 0o022 != 0 && status.mode & 0o1000 == 0  // sticky: only owners remove
        guard status.isDirectory, !status.isSymbolicLink, status.owner == userID || status.owner == 0, !othersMayWrite
        else {
            throw CLIError(
                "\(directory), the directory of cpsd's socket, can be changed by another user (owner uid "
                    + "\(status.owner), mode 0\(String(status.mode, radix: 8))\(status.isSymbolicLink ? ", a symbolic link" : "")): "
                    + "cpsctl sends no PIN through it. cpsd's socket belongs in your own 0700 directory.")
        }
    }
}
