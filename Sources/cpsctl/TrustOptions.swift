import ArgumentParser
import CardIdentity
import Foundation

/// Where the IGC-Santé roots are. Production roots are installed in /usr/share/cpsd/trust/production
/// (or /etc/cpsd/trust/production for local additions); cpsd's test PKI in /usr/share/cpsd/trust/test.
/// Run from a source tree, the tools also find `Packaging/trust/` next to the build directory.
struct TrustOptions: ParsableArguments {
    @Option(name: .long, help: "Extra directory of trusted IGC-Santé production roots (PEM).")
    var trustDir: [String] = []

    @Flag(name: .long, help: "Do not trust cpsd's test PKI (cards made by cps-vcard).")
    var noTestPKI = false

    func load() throws -> TrustStore {
        var store = TrustStore()
        let fileManager = FileManager.default
        var production = ["/etc/cpsd/trust/production", "/usr/share/cpsd/trust/production"]
        var test = ["/usr/share/cpsd/trust/test"]
        if let packaged = Self.sourceTreeTrustDirectory() {
            production.append(packaged.appendingPathComponent("production").path)
            test.append(packaged.appendingPathComponent("test").path)
        }
        production += trustDir
        do {
            for path in production where fileManager.fileExists(atPath: path) {
                try store.load(directory: URL(fileURLWithPath: path), kind: .production)
            }
            if !noTestPKI {
                for path in test where fileManager.fileExists(atPath: path) {
                    try store.load(directory: URL(fileURLWithPath: path), kind: .test)
                }
            }
        } catch {
            throw CLIError("\(error)")
        }
        return store
    }

    /// `<repo>/Packaging/trust` when the executable runs from `<repo>/.build/<config>/`.
    static func sourceTreeTrustDirectory() -> URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent("Packaging/trust")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}
