import Foundation

/// p11-kit's module registrations, read from the configuration files the way p11-kit reads them
/// (pkcs11.conf(5)): one `NAME.module` file per module in ~/.config/pkcs11/modules (not for root, nor
/// with `user-config: none`), /etc/pkcs11/modules and /usr/share/p11-kit/modules; a file overrides the
/// same name further down that list, and an empty `module:` line disables the module. Reading the files
/// instead of running `p11-kit list-modules` loads no module: no third-party module gets to talk to the
/// card during a diagnostic, and `enable-in`/`disable-in` (which `list-modules` does not apply) are seen.
package struct P11KitModule: Equatable {
    /// Which programs load the module.
    package enum Scope: Equatable {
        case everywhere
        case only(Set<String>)
        case except(Set<String>)

        /// Whether some program loads both modules.
        package func overlaps(_ other: Scope) -> Bool {
            switch (self, other) {
            case (.only(let a), .only(let b)): !a.isDisjoint(with: b)
            case (.only(let a), .except(let b)), (.except(let b), .only(let a)): !a.subtracting(b).isEmpty
            case (.only(let a), .everywhere), (.everywhere, .only(let a)): !a.isEmpty
            default: true
            }
        }

        package var text: String {
            switch self {
            case .everywhere: "in every program"
            case .only(let names): "only in \(names.sorted().joined(separator: ", "))"
            case .except(let names): "in every program but \(names.sorted().joined(separator: ", "))"
            }
        }
    }

    package let name: String
    package let file: String
    package let library: String
    package let scope: Scope

    package var libraryName: String { (library as NSString).lastPathComponent }

    /// The module files in force, by name, the disabled ones left out.
    static func registered(in environment: DiagEnvironment) -> [P11KitModule] {
        var seen: Set<String> = []
        var modules: [P11KitModule] = []
        for directory in directories(in: environment) {
            let files = (environment.files.directoryEntries(directory) ?? []).sorted()
            for file in files where file.hasSuffix(".module") && !file.hasPrefix(".") {
                let name = String(file.dropLast(".module".count))
                guard seen.insert(name).inserted else { continue }
                let path = "\(directory)/\(file)"
                guard let text = environment.files.text(path) else { continue }
                if let module = parse(text, name: name, file: path) { modules.append(module) }
            }
        }
        return modules.sorted { $0.name < $1.name }
    }

    /// One module file; nil when it loads nothing (an empty `module:` and no `remote:`).
    package static func parse(_ text: String, name: String, file: String) -> P11KitModule? {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            fields[key] = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let library = fields["module"] ?? ""
        guard !library.isEmpty || !(fields["remote"] ?? "").isEmpty else { return nil }
        func names(_ key: String) -> Set<String>? {
            fields[key].map { Set($0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)) }
        }
        let scope: Scope = names("enable-in").map(Scope.only) ?? names("disable-in").map(Scope.except) ?? .everywhere
        return P11KitModule(name: name, file: file, library: library.isEmpty ? "remote" : library, scope: scope)
    }

    /// The configuration directories, highest precedence first.
    static func directories(in environment: DiagEnvironment) -> [String] {
        let system = ["/etc/pkcs11/modules", "/usr/share/p11-kit/modules"]
        let global = environment.files.text("/etc/pkcs11/pkcs11.conf") ?? ""
        let userConfig = global.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 && parts[0] == "user-config" ? parts[1] : nil
        }.last ?? "merge"
        // p11-kit reads no user configuration for root (seen with p11-kit 0.24: ~/.config/pkcs11 is ignored).
        guard environment.sockets.userID != 0, userConfig != "none", let home = environment.variables["HOME"] else {
            return system
        }
        let user = home + "/.config/pkcs11/modules"
        return userConfig == "only" ? [user] : [user] + system
    }
}
