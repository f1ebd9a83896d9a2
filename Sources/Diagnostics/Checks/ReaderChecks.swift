import Foundation
import PCSC
import SmartCardCore

/// readers: presence, PIN pads, and who else talks to pcscd (who may hold the card).
extension DiagRunner {
    /// Logging in without a reader (the seed document's way out when there is none).
    static let eCPSAdvice =
        "without a reader, e-CPS (the mobile app) logs you in to Pro Santé Connect: "
        + "sans lecteur, connectez-vous avec l'application e-CPS"

    func readerChecks() {
        guard let readers else {
            let why = pcscdFailure ?? "pcscd is not reachable"
            add(.skip("readers.present", "\(why): readers cannot be listed"))
            add(.skip("readers.pinpad", "\(why): readers cannot be asked"))
            add(.skip("readers.clients", "\(why): nothing to hold"))
            return
        }
        if readers.isEmpty {
            add(.fail(
                "readers.present", "no smart-card reader; \(Self.eCPSAdvice)",
                remedy: "Plug in the reader (and check `lsusb` shows it). Until then, use the e-CPS app to log in."))
        } else {
            let names = readers.map { "\"\($0.name)\"\($0.cardPresent ? " (card)" : "")" }
            add(.ok("readers.present", "\(readers.count) reader(s): \(names.joined(separator: ", "))"))
        }
        pinPadCheck(readers)
        clientsCheck(readers)
    }

    /// Each reader's PIN pad, from its PC/SC part 10 feature list (a direct connection to the reader:
    /// no APDU, the card is not touched). Informational: a reader without a PIN pad is the common case.
    private func pinPadCheck(_ readers: [ReaderStatus]) {
        guard !readers.isEmpty else {
            add(.skip("readers.pinpad", "no reader to ask"))
            return
        }
        var lines: [String] = []
        var failures: [String] = []
        for reader in readers {
            do throws(CardError) {
                let features = try environment.readers.readerFeatures(of: reader.name)
                lines.append(
                    features.hasPINPad
                        ? "\"\(reader.name)\": PIN pad (\(features.pinPadDescription)), the PIN is typed on the reader"
                        : "\"\(reader.name)\": no PIN pad, the PIN is typed on the computer")
            } catch {
                let why = error.code == .sharingViolation ? "the reader is held exclusively by another program" : error.reason
                failures.append("\"\(reader.name)\": not asked (\(why))")
            }
        }
        if failures.isEmpty {
            add(.ok("readers.pinpad", lines.joined(separator: "; ")))
        } else {
            add(.warn(
                "readers.pinpad", (lines + failures).joined(separator: "; "),
                remedy: "Close the program holding the reader (see readers.clients), then run cpsctl diag again."))
        }
    }

    /// pcscd's other clients; when a card is held exclusively, which of them holds it. pcscd does not
    /// say, but cpsd never connects exclusively, so the holder is among the others.
    private func clientsCheck(_ readers: [ReaderStatus]) {
        let found = PCSCClients.find(socketPath: environment.pcscdSocket, in: environment)
        pcscClients = found.processes
        let listing = found.processes.isEmpty
            ? "no other PC/SC client" : "PC/SC clients (\(found.method)): \(found.processes.map(\.description).joined(separator: "; "))"
        let held = readers.filter(\.exclusive).map(\.name)
        guard !held.isEmpty else {
            add(.ok("readers.clients", listing))
            return
        }
        let where_ = held.map { "\"\($0)\"" }.joined(separator: ", ")
        add(.warn(
            "readers.clients", "card held exclusively in \(where_) by \(exclusiveHolderText); \(listing)",
            remedy: "Close that program (often a second smart-card middleware or a card tool left open), then retry."))
    }

    /// The programs that may hold a card exclusively: pcscd's clients other than cpsd.
    var exclusiveHolders: [LocalProcess] { (pcscClients ?? []).filter { $0.name != "cpsd" } }

    var exclusiveHolderText: String {
        switch exclusiveHolders.count {
        case 0: "a program this user cannot see"
        case 1: exclusiveHolders[0].description
        default: "one of " + exclusiveHolders.map(\.description).joined(separator: ", ")
        }
    }
}
