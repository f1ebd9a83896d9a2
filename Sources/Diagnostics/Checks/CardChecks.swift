import CardIdentity
import Foundation
import IASECC
import SmartCardCore
import SwiftASN1
import X509

/// card, certificates and PIN/PUK. The card is read straight through PC/SC in shared mode, even when
/// cpsd runs: the card driver's `readCard` (SELECT, READ BINARY, and GET DATA on a CPS3 or VERIFY without
/// data on a CPS4 for the counters), in one short transaction, so cpsd and other clients keep their access.
/// Never a PIN, never a try spent.
extension DiagRunner {
    static let ansContacts = "contact ANS: 0 809 40 00 82, monserviceclient.cartes@esante.gouv.fr"

    func cardChecks() async {
        let ids = ["card.present", "card.kind", "card.identity", "certificates.validity", "certificates.chain", "pin.tries", "pin.unblock"]
        guard let readers else {
            for id in ids { add(.skip(id, "\(pcscdFailure ?? "pcscd is not reachable"): the card cannot be checked")) }
            return
        }
        let candidates = options.reader.map { name in readers.filter { $0.name == name } } ?? readers
        if let name = options.reader, candidates.isEmpty {
            add(.fail("card.present", "no reader named \"\(name)\"", remedy: "Pick one of: \(readers.map(\.name).joined(separator: ", "))"))
            for id in ids.dropFirst() { add(.skip(id, "no reader named \"\(name)\"")) }
            return
        }
        let withCard = candidates.filter(\.cardPresent)
        guard let chosen = withCard.first(where: { $0.cardKind != .unknown }) ?? withCard.first else {
            if readers.isEmpty {
                add(.skip("card.present", "no reader, so no card"))
            } else {
                add(.fail("card.present", "no card in \(candidates.count == 1 ? "\"\(candidates[0].name)\"" : "any reader")", remedy: "Insert the CPS card (chip first, facing up)."))
            }
            for id in ids.dropFirst() { add(.skip(id, "no card")) }
            return
        }
        add(.ok("card.present", "card in \"\(chosen.name)\""))
        let atr = chosen.atr.map { String(format: "%02X", $0) }.joined(separator: " ")
        let kind = CardKind(atr: chosen.atr)
        switch kind {
        case .cps3Contact, .cps4:
            add(.ok("card.kind", "\(kind.displayName), ATR \(atr)"))
        case .unknown:
            add(.fail("card.kind", "unknown card (ATR \(atr)): not a CPS", remedy: "Insert a CPS card (CPS, CPF, CPE…); this card is not one."))
            for id in ids.dropFirst(2) { add(.skip(id, "the card is not a CPS")) }
            return
        default:
            add(.warn("card.kind", "\(kind.displayName), ATR \(atr): this version reads CPS3 and CPS4 cards through their contact interface only", remedy: "Use the card's contact chip in a contact reader."))
            for id in ids.dropFirst(2) { add(.skip(id, "\(kind.displayName) cards are not read by this version")) }
            return
        }
        let contents: CardContents
        do {
            let connection = try environment.readers.connect(to: chosen.name)
            defer { connection.disconnect(.leave) }
            contents = try CPS3Driver.perform(on: connection) { session in
                try CardDrivers.driver(for: session).readCard(&session)
            }
        } catch {
            let code = (error as? CardError)?.code
            if code == .sharingViolation || chosen.exclusive {
                add(.fail(
                    "card.identity", "the card is held exclusively by \(exclusiveHolderText): it cannot be read",
                    remedy: "Close that program (often a second smart-card middleware or a card tool left open), then retry."))
            } else if code == .accessDenied {
                add(.fail("card.identity", Self.polkitFinding("\(error)"), remedy: Self.polkitRemedy))
            } else {
                add(.fail("card.identity", "the card could not be read: \(error)", remedy: "Reinsert the card; if this persists, run `cpsctl card info --trace` and send the output to support."))
            }
            for id in ids.dropFirst(3) { add(.skip(id, "the card could not be read")) }
            return
        }
        serial = contents.serialNumber
        await certificateChecks(contents)
        pinChecks(contents.pinStatus)
    }

    private func certificateChecks(_ contents: CardContents) async {
        let stored = [("authentication", contents.authenticationKey), ("signature", contents.signatureKey)].compactMap {
            usage, key in key.flatMap { contents.certificate(for: $0) }.map { (usage, $0.der) }
        }
        var summaries: [(String, CertificateSummary, TrustStore.Verdict)] = []
        var holder: HolderIdentity?
        for (usage, der) in stored {
            guard let certificate = try? Certificate(derEncoded: der), let identity = try? HolderIdentity(certificate: certificate) else {
                continue
            }
            if usage == "authentication" || holder == nil { holder = identity }
            summaries.append((usage, identity.certificate, await trustStore.verify(certificate, at: now)))
        }
        identity = holder
        certificateSerials = summaries.map(\.1.serialNumber)
        if let holder {
            let name = [holder.givenName, holder.surname].compactMap { $0 }.joined(separator: " ")
            add(.ok("card.identity", "\(holder.cardType?.rawValue ?? "card type unknown"), holder \(name), \(holder.idKind.rawValue) \(holder.idNat), serial \(contents.serialNumber)"))
        } else {
            add(.warn("card.identity", "no readable certificate on the card (serial \(contents.serialNumber))", remedy: "The card may be damaged or not personalised: ask ANS for a new card (\(Self.ansContacts))."))
        }
        guard !summaries.isEmpty else {
            add(.skip("certificates.validity", "no certificate on the card"))
            add(.skip("certificates.chain", "no certificate on the card"))
            return
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let soonest = summaries.min { $0.1.notAfter < $1.1.notAfter }!
        let days = soonest.1.daysUntilExpiry(from: now)
        let until = "\(soonest.0) certificate valid until \(formatter.string(from: soonest.1.notAfter))"
        if let early = summaries.first(where: { $0.1.notBefore > now }) {
            add(.fail("certificates.validity", "\(early.0) certificate not valid before \(formatter.string(from: early.1.notBefore))", remedy: "Check the computer's date and time."))
        } else if days < 0 {
            add(.fail("certificates.validity", "\(until): EXPIRED \(-days) day(s) ago", remedy: "Order a renewal card from ANS (\(Self.ansContacts)); check the computer's date."))
        } else if days <= options.expiryWarningDays {
            add(.warn("certificates.validity", "\(until): expires in \(days) day(s)", remedy: "The renewal card is usually sent before expiry: if it has not arrived, \(Self.ansContacts)."))
        } else {
            add(.ok("certificates.validity", "\(until) (\(days) days)"))
        }
        let untrusted = summaries.compactMap { usage, _, verdict -> String? in
            if case .untrusted(let reason) = verdict { return "\(usage): \(reason)" }
            return nil
        }
        let kinds = Set(summaries.compactMap { _, _, verdict -> String? in
            if case .trusted(let kind) = verdict { return kind.rawValue }
            return nil
        })
        if untrusted.isEmpty {
            let label = kinds.contains("test") ? "the IGC-Santé TEST roots" : "the IGC-Santé production roots"
            add(.ok("certificates.chain", "chains to \(label)"))
        } else {
            add(.fail("certificates.chain", "not trusted: \(untrusted.joined(separator: "; "))", remedy: "Install the IGC-Santé roots (package cpsd, /usr/share/cpsd/trust) or pass --trust-dir."))
        }
    }

    private func pinChecks(_ status: PINStatus) {
        let unblocks = status.unblocksLeft.map { "\($0) unblock(s) left" } ?? "unblocks left unknown"
        let pinText = "PIN \(status.pin.triesLeft) of \(status.pin.maxTries) tries left"
        let pukText = "PUK \(status.puk.triesLeft) of \(status.puk.maxTries) tries left, \(unblocks)"
        let pukDead = status.puk.isBlocked || status.unblocksLeft == 0
        if status.isCardDead {
            add(.fail("pin.tries", "\(pinText): card blocked", remedy: "card blocked: \(Self.ansContacts)"))
        } else if status.pin.isBlocked {
            add(.fail("pin.tries", "\(pinText): PIN blocked", remedy: "cpsctl pin unblock with the 8-digit unblocking code (PUK) sent with the card."))
        } else if status.pin.triesLeft == 1 {
            add(.warn("pin.tries", "\(pinText): the next wrong PIN blocks the card", remedy: "Make sure of the PIN before typing it; keep the 8-digit unblocking code (PUK) at hand."))
        } else {
            add(.ok("pin.tries", pinText))
        }
        if pukDead {
            add(.fail("pin.unblock", "\(pukText): the PIN can no longer be unblocked", remedy: "Ask ANS for a new card before the PIN blocks: \(Self.ansContacts)"))
        } else if status.puk.triesLeft == 1 {
            add(.warn("pin.unblock", "\(pukText): the next wrong PUK blocks it", remedy: "Check the 8-digit unblocking code before using it."))
        } else {
            add(.ok("pin.unblock", pukText))
        }
    }
}
