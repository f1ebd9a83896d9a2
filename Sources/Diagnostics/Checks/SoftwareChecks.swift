import Foundation
import P11KitClient

/// cpsd, p11-kit registration and the browsers' module.
extension DiagRunner {
    static let clientModuleName = "p11-kit-client.so"
    /// PKCS#11 modules that also drive smart-card readers, so a CPS card would show twice.
    static let competingModules = ["opensc-pkcs11", "libcps3_pkcs11", "cps3_pkcs11", "coolkey", "cackey", "libykcs11"]

    func daemonChecks() {
        let path = options.daemonSocket ?? DaemonRoute.defaultSocketPath(environment: environment.variables)
        guard let path else {
            add(.warn("cpsd.running", "P11_KIT_SERVER_ADDRESS is not a unix:path= address", remedy: "Unset P11_KIT_SERVER_ADDRESS or point it at cpsd's socket."))
            return
        }
        if environment.sockets.accepts(path) {
            let pid = environment.sockets.server(path)?.pid
            let exe = pid.flatMap { environment.files.symbolicLinkDestination("/proc/\($0)/exe") }
            let who = [pid.map { "pid \($0)" }, exe].compactMap { $0 }.joined(separator: ", ")
            let version = exe.flatMap { environment.run($0, ["--version"]) }.flatMap { result in
                result.status == 0 ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
            }
            daemonPID = pid
            add(.ok("cpsd.running", "cpsd answers at \(path) (\(who)\(version.map { ", version \($0)" } ?? ""))"))
        } else {
            let stale = environment.files.fileExists(path) ? " (stale socket file)" : ""
            add(.warn("cpsd.running", "cpsd is not running: nothing answers at \(path)\(stale)", remedy: "systemctl --user enable --now cpsd.socket"))
        }
    }

    /// cpsd's module registered once with p11-kit, and no other smart-card module loaded next to it
    /// (the card would show twice to p11-kit's consumers: p11-kit-proxy, GnuTLS programs, NSS set up with
    /// the proxy). From the module files (see `P11KitModule`): nothing is loaded to find out.
    func p11KitChecks() {
        guard environment.tool("p11-kit") != nil else {
            add(.skip("p11kit.module", "p11-kit is not installed (package p11-kit)"))
            add(.skip("p11kit.duplicates", "p11-kit is not installed (package p11-kit)"))
            return
        }
        let modules = P11KitModule.registered(in: environment)
        let ours = modules.filter { $0.libraryName == Self.clientModuleName }
        switch ours.count {
        case 0:
            add(.warn("p11kit.module", "cpsd's module (\(Self.clientModuleName)) is not registered with p11-kit", remedy: "Install the cpsd package's /usr/share/p11-kit/modules/cpsd.module, or use `cpsctl setup` for the browsers."))
        case 1:
            add(.ok("p11kit.module", "registered once as \"\(ours[0].name)\" (\(ours[0].file), \(ours[0].scope.text))"))
        default:
            add(.warn("p11kit.module", "cpsd's module is registered \(ours.count) times (\(ours.map(\.name).joined(separator: ", "))): the card shows several times", remedy: "Keep one .module file for \(Self.clientModuleName) in /etc/pkcs11/modules, /usr/share/p11-kit/modules or ~/.config/pkcs11/modules."))
        }
        let competing = modules.filter { module in
            Self.competingModules.contains { module.name.contains($0) || module.libraryName.contains($0) }
        }
        let twice = competing.filter { module in ours.contains { $0.scope.overlaps(module.scope) } }
        if twice.isEmpty {
            let names = competing.map(\.name).joined(separator: ", ")
            let note = competing.isEmpty
                ? "no other smart-card module registered"
                : ours.isEmpty
                    ? "\(names) registered, but not cpsd's module: nothing is loaded twice"
                    : "\(names) registered, never loaded in the same program as cpsd's module (\(competing.map(\.scope.text).joined(separator: "; ")))"
            add(.ok("p11kit.duplicates", note))
        } else {
            let names = twice.map { "\($0.name) (\($0.file), \($0.scope.text))" }.joined(separator: ", ")
            let name = twice[0].name
            add(.warn(
                "p11kit.duplicates", "p11-kit also loads \(names) next to cpsd's module: a second middleware drives the same readers and talks to the card (the card can show twice)",
                remedy: "Stop p11-kit loading it: a file of the same name with an empty `module:` line overrides the package's, in /etc/pkcs11/modules (every user: `echo module: | sudo tee /etc/pkcs11/modules/\(name).module`) or ~/.config/pkcs11/modules (this user)."))
        }
    }

    func browserChecks() {
        let registration = environment.browserRegistration
        let existing = registration.databases().filter { environment.files.fileExists($0.directory) }
        guard !existing.isEmpty else {
            add(.skip("browsers.module", "no Firefox profile or Chromium NSS database for this user"))
            return
        }
        guard environment.tool("modutil") != nil else {
            add(.skip("browsers.module", "modutil is missing (package libnss3-tools): the NSS databases cannot be read"))
            return
        }
        let missing = existing.filter { !registration.isRegistered(in: $0) }
        missingBrowserDatabases = missing
        let where_ = existing.map { "\($0.browser) \($0.directory)" }
        if missing.isEmpty {
            add(.ok("browsers.module", "\"\(BrowserRegistration.moduleName)\" registered in \(where_.joined(separator: ", "))"))
        } else {
            let names = missing.map { "\($0.browser) \($0.directory)" }.joined(separator: ", ")
            add(.warn("browsers.module", "\"\(BrowserRegistration.moduleName)\" missing in \(names)", remedy: "cpsctl setup (or cpsctl diag --fix), then restart the browsers."))
        }
    }
}
