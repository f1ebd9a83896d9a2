import Foundation

/// Whether the cpsd extension is installed where that can be read from the browser's own files:
/// a Chromium profile's `Preferences` / `Secure Preferences` (`extensions.settings.<id>`), a Firefox
/// profile's `extensions.json` (`addons[].id`). Nothing is asked of a running browser.
struct BrowserProfile: Hashable {
    enum Browser: String { case chromium = "Chromium", chrome = "Google Chrome", firefox = "Firefox" }
    enum ExtensionState { case enabled, disabled, absent }

    let browser: Browser
    let path: String

    var label: String { "\(browser.rawValue) \(path)" }

    /// Every Chromium, Chrome and Firefox profile of the user.
    static func all(in diagEnvironment: DiagEnvironment) -> [BrowserProfile] {
        let environment = diagEnvironment.variables
        let files = diagEnvironment.files
        let home = environment["HOME"] ?? NSHomeDirectory()
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
        var profiles: [BrowserProfile] = []
        for (browser, root) in [(Browser.chromium, "chromium"), (.chrome, "google-chrome")] {
            let directory = "\(config)/\(root)"
            let entries = (files.directoryEntries(directory) ?? []).sorted()
            for entry in entries where files.fileExists("\(directory)/\(entry)/Preferences") {
                profiles.append(BrowserProfile(browser: browser, path: "\(directory)/\(entry)"))
            }
        }
        let registration = diagEnvironment.browserRegistration
        for root in [".mozilla/firefox", "snap/firefox/common/.mozilla/firefox", ".var/app/org.mozilla.firefox/.mozilla/firefox"] {
            profiles += registration.firefoxProfiles(in: URL(fileURLWithPath: home).appendingPathComponent(root))
                .map { BrowserProfile(browser: .firefox, path: $0) }
        }
        return profiles
    }

    /// The extension's state in this profile. `chromiumIDs`: the ids cpsd accepts.
    func extensionState(chromiumIDs: [String], firefoxID: String, files: any DiagFileSystem) -> ExtensionState {
        switch browser {
        case .firefox:
            guard let json = Self.json("\(path)/extensions.json", files: files), let addons = json["addons"] as? [[String: Any]],
                let addon = addons.first(where: { $0["id"] as? String == firefoxID })
            else { return .absent }
            let disabled = addon["active"] as? Bool == false || addon["userDisabled"] as? Bool == true
                || addon["appDisabled"] as? Bool == true
            return disabled ? .disabled : .enabled
        case .chromium, .chrome:
            var states: [ExtensionState] = []
            for file in ["Preferences", "Secure Preferences"] {
                guard let json = Self.json("\(path)/\(file)", files: files),
                    let settings = (json["extensions"] as? [String: Any])?["settings"] as? [String: Any]
                else { continue }
                for id in chromiumIDs {
                    guard let entry = settings[id] as? [String: Any] else { continue }
                    states.append(Self.chromiumDisabled(entry) ? .disabled : .enabled)
                }
            }
            return states.contains(.disabled) ? .disabled : (states.contains(.enabled) ? .enabled : .absent)
        }
    }

    /// Chromium marks a disabled extension with `state: 0` (older versions) or a non-empty `disable_reasons`
    /// (a bit field, or a list in newer versions).
    private static func chromiumDisabled(_ entry: [String: Any]) -> Bool {
        if let state = entry["state"] as? Int, state == 0 { return true }
        switch entry["disable_reasons"] {
        case let reasons as Int: return reasons != 0
        case let reasons as [Any]: return !reasons.isEmpty
        default: return false
        }
    }

    private static func json(_ path: String, files: any DiagFileSystem) -> [String: Any]? {
        guard let bytes = files.contents(path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}
