import Foundation
import PCSC
import SmartCardCore

/// system, pcscd and readers.
extension DiagRunner {
    static let packages = ["pcscd", "libpcsclite1", "p11-kit", "libnss3", "firefox-esr", "chromium"]

    func systemChecks() {
        if let os = DiagEnvironment.operatingSystem() {
            add(.ok("system.os", os))
        } else {
            add(.skip("system.os", "/etc/os-release is missing or unreadable"))
        }
        if let versions = DiagEnvironment.packageVersions(Self.packages) {
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
        if let session = options.environment["XDG_SESSION_TYPE"], !session.isEmpty {
            add(.ok("system.session", "desktop session type: \(session)"))
        } else {
            add(.skip("system.session", "XDG_SESSION_TYPE is not set (no desktop session, e.g. SSH or a script)"))
        }
    }

    func pcscdChecks() {
        do throws(CardError) {
            readers = try PCSCBackend().listReaders()
            add(.ok("pcscd.reachable", "pcscd answers (\(readers?.count ?? 0) reader(s))"))
        } catch {
            if error.code == .noReaders {
                readers = []
                add(.ok("pcscd.reachable", "pcscd answers (no reader)"))
                return
            }
            pcscdFailure = "pcscd is not reachable"
            if error.code == .accessDenied {
                add(.fail(
                    "pcscd.reachable", "pcscd refused access (polkit): \(error.reason)",
                    remedy: "polkit allows PC/SC only to the active local session: run from the desktop session, "
                        + "not over SSH, or add a polkit rule for org.debian.pcsc-lite.access_pcsc"))
                return
            }
            add(.fail("pcscd.reachable", "pcscd is not reachable: \(howPCSCDStarts())", remedy: "sudo systemctl start pcscd.socket (package pcscd)"))
        }
    }

    /// How pcscd is (not) started: its socket file and the systemd socket unit.
    private func howPCSCDStarts() -> String {
        var parts: [String] = []
        let socket = options.environment["PCSCLITE_CSOCK_NAME"] ?? "/run/pcscd/pcscd.comm"
        parts.append(FileManager.default.fileExists(atPath: socket) ? "\(socket) exists but nothing answers" : "\(socket) is missing")
        if let systemctl = DiagEnvironment.tool("systemctl"),
            let result = DiagEnvironment.run(systemctl, ["is-active", "pcscd.socket"]),
            !result.output.contains("System has not been booted with systemd"), !result.output.contains("Failed to connect")
        {
            parts.append("pcscd.socket is \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        } else {
            parts.append("systemd is not available to tell the pcscd.socket state")
        }
        return parts.joined(separator: "; ")
    }

    func readerChecks() {
        guard let readers else {
            add(.skip("readers.present", "\(pcscdFailure ?? "pcscd is not reachable"): readers cannot be listed"))
            add(.skip("readers.clients", "\(pcscdFailure ?? "pcscd is not reachable"): nothing to hold"))
            return
        }
        if readers.isEmpty {
            add(.fail(
                "readers.present", "no smart-card reader",
                remedy: "Plug in the reader. Sans lecteur, e-CPS permet de se connecter à Pro Santé Connect "
                    + "(without a reader, the e-CPS mobile app logs you in to Pro Santé Connect)."))
        } else {
            let names = readers.map { "\"\($0.name)\"\($0.cardPresent ? " (card)" : "")" }
            add(.ok("readers.present", "\(readers.count) reader(s): \(names.joined(separator: ", "))"))
        }
        let clients = DiagEnvironment.pcscClients()
        let held = readers.filter(\.exclusive).map(\.name)
        let listing = clients.isEmpty ? "no other PC/SC client process" : "PC/SC clients: \(clients.joined(separator: "; "))"
        if held.isEmpty {
            add(.ok("readers.clients", listing))
        } else {
            add(.warn(
                "readers.clients", "card held exclusively in \(held.joined(separator: ", ")); \(listing)",
                remedy: "Close the program holding the card (one of the processes listed), then retry."))
        }
    }
}
