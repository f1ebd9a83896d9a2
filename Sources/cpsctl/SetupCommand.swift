import ArgumentParser
import Diagnostics
import Foundation

/// `cpsctl setup`: makes the browsers of this user see the CPS card through cpsd.
struct SetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Register cpsd's PKCS#11 module and trust its bridge's CA in this user's Firefox profiles and Chromium NSS database.",
        discussion: """
            The module is p11-kit's client (p11-kit-client.so), which reaches cpsd at p11-kit's default \
            address ($XDG_RUNTIME_DIR/p11-kit/pkcs11). The bridge's CA is this computer's own, limited to \
            localhost, 127.0.0.1 and ::1; it is trusted for websites only. Close the browsers first: NSS \
            databases in use may not take the change until the browser restarts. --undo removes both.
            """
    )

    @Flag(name: .long, help: "Remove the registration instead.")
    var undo = false

    func run() async throws {
        let registration = BrowserRegistration()
        guard let module = registration.clientModule else {
            throw CLIError("p11-kit-client.so is missing: install the Debian package p11-kit-modules.")
        }
        let trust = BridgeTrust()
        let caPEM = undo ? "" : try trust.caPEM()
        var changed = 0
        for database in registration.databases() {
            let chromiumDefault = database.browser == "Chromium"
            let exists = FileManager.default.fileExists(atPath: database.directory)
            // Chromium's ~/.pki/nssdb is created when missing (Chromium reads it at start); other places only if present.
            guard exists || (chromiumDefault && !undo) else { continue }
            let registered = exists && registration.isRegistered(in: database)
            if undo {
                if registered {
                    try registration.unregister(from: database)
                    print("removed from \(database.browser): \(database.directory)")
                    changed += 1
                }
                if exists, trust.trustedPEM(in: database) != nil {
                    try trust.distrust(in: database)
                    print("bridge CA no longer trusted in \(database.browser): \(database.directory)")
                    changed += 1
                }
                continue
            }
            if registered {
                print("already registered in \(database.browser): \(database.directory)")
            } else {
                try registration.register(in: database, module: module)
                print("registered in \(database.browser): \(database.directory)")
                changed += 1
            }
            if trust.isTrusted(in: database, pem: caPEM) {
                print("bridge CA already trusted in \(database.browser): \(database.directory)")
            } else {
                try trust.trust(in: database, pem: caPEM)
                print("bridge CA trusted in \(database.browser): \(database.directory)")
                changed += 1
            }
        }
        if changed == 0 { print(undo ? "Nothing to remove." : "Nothing to change.") }
    }
}
