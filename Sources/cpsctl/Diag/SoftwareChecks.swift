import Foundation

/// cpsd, p11-kit registration, browsers and the bridge.
extension DiagRunner {
    static let clientModuleName = "p11-kit-client.so"
    /// PKCS#11 modules that also drive smart-card readers, so a CPS card would show twice.
    static let competingModules = ["opensc-pkcs11", "libcps3_pkcs11", "cps3_pkcs11", "coolkey", "cackey", "libykcs11"]

    func daemonChecks() {
        let path = options.daemonSocket ?? DaemonRoute.defaultSocketPath(environment: options.environment)
        guard let path else {
            add(.warn("cpsd.running", "P11_KIT_SERVER_ADDRESS is not a unix:path= address", remedy: "Unset P11_KIT_SERVER_ADDRESS or point it at cpsd's socket."))
            return
        }
        if UnixSocketProbe.accepts(path) {
            let pid = UnixSocketProbe.serverPID(path)
            let exe = pid.flatMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe") }
            let who = [pid.map { "pid \($0)" }, exe].compactMap { $0 }.joined(separator: ", ")
            let version = exe.flatMap { DiagEnvironment.run($0, ["--version"]) }.flatMap { result in
                result.status == 0 ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
            }
            daemonPID = pid
            add(.ok("cpsd.running", "cpsd answers at \(path) (\(who)\(version.map { ", version \($0)" } ?? ""))"))
        } else {
            let stale = FileManager.default.fileExists(atPath: path) ? " (stale socket file)" : ""
            add(.warn("cpsd.running", "cpsd is not running: nothing answers at \(path)\(stale)", remedy: "systemctl --user enable --now cpsd.socket"))
        }
    }

    /// Module names and library paths from `p11-kit list-modules` (lines at column 0: `name: library`).
    /// p11-kit-client.so is listed even when no cpsd answers, so registration is told apart from running.
    func p11KitChecks() {
        guard let tool = DiagEnvironment.tool("p11-kit"),
            let result = DiagEnvironment.run(tool, ["list-modules"], environment: options.environment)
        else {
            add(.skip("p11kit.module", "p11-kit is not installed (package p11-kit)"))
            add(.skip("p11kit.duplicates", "p11-kit is not installed (package p11-kit)"))
            return
        }
        let modules: [(name: String, library: String)] = result.output.split(separator: "\n").compactMap { line in
            guard let first = line.first, first != " ", first != "\t", let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let ours = modules.filter { ($0.library as NSString).lastPathComponent == Self.clientModuleName }
        switch ours.count {
        case 0:
            add(.warn("p11kit.module", "cpsd's module (\(Self.clientModuleName)) is not registered with p11-kit", remedy: "Install the cpsd package's /usr/share/p11-kit/modules/cpsd.module, or use `cpsctl setup` for the browsers."))
        case 1:
            add(.ok("p11kit.module", "registered once as \"\(ours[0].name)\""))
        default:
            add(.warn("p11kit.module", "cpsd's module is registered \(ours.count) times (\(ours.map(\.name).joined(separator: ", "))): the card shows several times", remedy: "Keep one .module file for \(Self.clientModuleName) in /etc/pkcs11/modules, /usr/share/p11-kit/modules or ~/.config/pkcs11/modules."))
        }
        let competing = modules.filter { module in
            Self.competingModules.contains { module.name.contains($0) || module.library.contains($0) }
        }
        if competing.isEmpty {
            add(.ok("p11kit.duplicates", "no other smart-card module registered"))
        } else {
            let names = competing.map { "\($0.name) (\($0.library))" }.joined(separator: ", ")
            add(.warn("p11kit.duplicates", "another smart-card module exposes the same readers: \(names)", remedy: "Disable it for p11-kit (add `enable-in: none` to its .module file, or remove the package), so the card is not seen twice."))
        }
    }

    func browserChecks() {
        let registration = BrowserRegistration(environment: options.environment)
        let existing = registration.databases().filter { FileManager.default.fileExists(atPath: $0.directory) }
        guard !existing.isEmpty else {
            add(.skip("browsers.module", "no Firefox profile or Chromium NSS database for this user"))
            return
        }
        guard DiagEnvironment.tool("modutil") != nil else {
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

    func bridgeChecks() {
        add(.skip("bridge.listening", "the browser bridge is not part of this version"))
    }
}
