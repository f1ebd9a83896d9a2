import Foundation

/// A cpsd that answered at `socketPath`.
package struct DaemonRoute: Equatable, Sendable {
    package let socketPath: String

    package init(socketPath: String) { self.socketPath = socketPath }

    /// The address p11-kit-client.so is given: `unix:path=` with the path escaped as p11-kit decodes it.
    package var serverAddress: String {
        let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/.".utf8)
        let escaped = socketPath.utf8.map { byte in
            plain.contains(byte) ? String(UnicodeScalar(byte)) : String(format: "%%%02x", byte)
        }
        return "unix:path=" + escaped.joined()
    }

    /// Where p11-kit-client.so itself would look: P11_KIT_SERVER_ADDRESS (`unix:path=…`), else
    /// `$XDG_RUNTIME_DIR/p11-kit/pkcs11`, else `/run/user/<uid>/p11-kit/pkcs11`.
    package static func defaultSocketPath(environment: [String: String]) -> String? {
        if let address = environment["P11_KIT_SERVER_ADDRESS"] {
            guard address.hasPrefix("unix:path=") else { return nil }
            let encoded = String(address.dropFirst("unix:path=".count))
            return encoded.removingPercentEncoding ?? encoded
        }
        let runtime = environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(UnixSocketProbe.userID)"
        return runtime + "/p11-kit/pkcs11"
    }
}
