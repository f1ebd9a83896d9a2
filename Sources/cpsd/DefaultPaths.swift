import Foundation

/// Where cpsd listens unless told otherwise.
enum DefaultPaths {
    /// p11-kit-client.so's default address: `$XDG_RUNTIME_DIR/p11-kit/pkcs11` (the directory is created 0700).
    static func pkcs11Socket(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let runtime = environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
        let directory = runtime + "/p11-kit"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return directory + "/pkcs11"
    }
}
