import Foundation
import SmartCardCore

/// system and pcscd.
extension DiagRunner {
    static let packages = ["pcscd", "libpcsclite1", "p11-kit", "libnss3", "firefox-esr", "chromium"]

    func systemChecks() {
        if let os = environment.operatingSystem() {
            add(.ok("system.os", os))
        } else {
            add(.skip("system.os", "/etc/os-release is missing or unreadable"))
        }
        if let versions = environment.packageVersions(Self.packages) {
            let listed = Self.packages.map { "\($0) \(versions[$0] ?? "not installed")" }
            versionLines = listed
            let missing = ["pcscd", "libpcsclite1", "p11-kit"].filter { versions[$0] == nil }
            if missing.isEmpty {
                add(.ok("system.packages", listed.joined(separator: ", ")))
            } else {
                add(.warn(
                    "system.packages", listed.joined(separator: ", "),
                    remedy: "Install the missing packages: sudo apt install \(missing.joined(separator: " "))"))
            }
        } else {
            add(.skip("system.packages", "dpkg-query is not available (not a Debian system)"))
        }
        add(.ok("system.cpsctl", "cpsctl \(CPSCtlVersion.string)"))
        if let session = environment.variables["XDG_SESSION_TYPE"], !session.isEmpty {
            add(.ok("system.session", "desktop session type: \(session)"))
        } else {
            add(.skip("system.session", "XDG_SESSION_TYPE is not set (no desktop session, e.g. SSH or a script)"))
        }
    }

    func pcscdChecks() {
        do throws(CardError) {
            let found = try environment.readers.listReaders()
            readers = found
            add(.ok("pcscd.reachable", found.isEmpty ? "pcscd answers (no reader)" : "pcscd answers (\(found.count) reader(s))"))
        } catch {
            if error.code == .noReaders {
                readers = []
                add(.ok("pcscd.reachable", "pcscd answers (no reader)"))
                return
            }
            pcscdFailure = "pcscd is not reachable"
            // pcscd that accepts the connection and then drops it without a word refused this client
            // (libpcsclite reports SCARD_W_SECURITY_VIOLATION, or SCARD_E_NO_SERVICE when the close
            // comes before its first message is sent); a stopped pcscd refuses the connection itself.
            let socket = environment.pcscdSocket
            if error.code == .accessDenied {
                pcscdFailure = "pcscd refused this client (polkit)"
                add(.fail("pcscd.reachable", Self.polkitFinding(error.reason), remedy: Self.polkitRemedy))
                return
            }
            if error.code == .serviceUnavailable, environment.sockets.accepts(socket) {
                pcscdFailure = "pcscd refused this client (polkit?)"
                add(.fail(
                    "pcscd.reachable",
                    "pcscd accepts connections on \(socket) but dropped this one unanswered: most likely "
                        + Self.polkitFinding(error.reason) + "; else pcscd fails as it starts (journalctl -u pcscd)",
                    remedy: Self.polkitRemedy))
                return
            }
            add(.fail("pcscd.reachable", "pcscd is not reachable: \(howPCSCDStarts())", remedy: "sudo systemctl start pcscd.socket (package pcscd)"))
        }
    }

    /// pcscd built with polkit asks it about every client; a refusal closes the connection before the
    /// first message (libpcsclite then reports SCARD_W_SECURITY_VIOLATION) or refuses SCardConnect.
    static func polkitFinding(_ reason: String) -> String {
        "pcscd refused this client: its polkit policy admits only a local, active session "
            + "(this one is remote, inactive, or a service) [\(reason)]"
    }

    static let polkitRemedy =
        "Run from the desktop session itself (not over SSH, su or a system service); for a service account, add a "
        + "polkit rule allowing org.debian.pcsc-lite.access_pcsc and org.debian.pcsc-lite.access_card "
        + "(/usr/share/doc/pcscd/README.polkit)."

    /// How pcscd is (not) started: its socket file and the systemd socket unit.
    private func howPCSCDStarts() -> String {
        var parts: [String] = []
        let socket = environment.pcscdSocket
        parts.append(environment.files.fileExists(socket) ? "\(socket) exists but nothing answers" : "\(socket) is missing")
        if let systemctl = environment.tool("systemctl"),
            let result = environment.run(systemctl, ["is-active", "pcscd.socket"]),
            !result.output.contains("System has not been booted with systemd"), !result.output.contains("Failed to connect")
        {
            parts.append("pcscd.socket is \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        } else {
            parts.append("systemd is not available to tell the pcscd.socket state")
        }
        return parts.joined(separator: "; ")
    }
}
