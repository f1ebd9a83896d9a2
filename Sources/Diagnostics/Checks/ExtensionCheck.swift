import BridgeProtocol

extension DiagRunner {
    func extensionCheck(_ settings: BridgeSettings) {
        let profiles = BrowserProfile.all(in: environment)
        guard !profiles.isEmpty else {
            add(.skip("bridge.extension", "no Chromium, Chrome or Firefox profile for this user"))
            return
        }
        var enabled: [BrowserProfile] = []
        var disabled: [BrowserProfile] = []
        for profile in profiles {
            switch profile.extensionState(chromiumIDs: settings.chromiumIDs, firefoxID: BridgeExtensionIDs.firefox, files: environment.files) {
            case .enabled: enabled.append(profile)
            case .disabled: disabled.append(profile)
            case .absent: break
            }
        }
        if !enabled.isEmpty {
            add(.ok("bridge.extension", "the cpsd extension is installed in \(enabled.map(\.label).joined(separator: ", "))"))
        } else if !disabled.isEmpty {
            add(.fail(
                "bridge.extension", "the cpsd extension is installed but disabled in \(disabled.map(\.label).joined(separator: ", "))",
                remedy: "Enable it: chrome://extensions in Chromium, about:addons in Firefox."))
        } else {
            add(.warn(
                "bridge.extension", "the cpsd extension is not installed in \(profiles.map(\.label).joined(separator: ", "))",
                remedy: "Install the cpsd extension (Chromium id \(BridgeExtensionIDs.chromium), Firefox add-on "
                    + "\(BridgeExtensionIDs.firefox)): see Packaging/webextension/README.md. Card logins by TLS "
                    + "client authentication work without it; web pages that ask the bridge do not."))
        }
    }
}
