import Foundation

/// Fault hooks for the fault campaign (`make fuzz`): the card answers every command as usual, then a
/// seeded plan may damage the answer before it leaves (wrong lengths, wrong status words, truncated
/// TLVs, endless `61xx` chains). Only answers are damaged, never commands, so a fault cannot make the
/// card compare a PIN it was not sent: any try the card spends comes from a VERIFY it really refused.
///
/// Off unless `CPS_VCARD_FAULTS` names a plan file, so tests and the demo never see it. The plan is one
/// line of `key=value` words, read again whenever the file changes, so a campaign switches faults on and
/// off while clients keep working:
///
///     mode=random rate=0.25 seed=42      # mode: off | wrong-length | wrong-sw | truncated-tlv | endless-61xx | random
///     mode=lost-context-once after=0     # CPS4 only, see below
///
/// `lost-context-once` is the CPS4 "lost context" case (Cryptolib issue #1722, cps4-card.md §3): the next
/// ChipDoc command (CLA 01/11, anything but SELECT by name and GET RESPONSE) after the plan is (re)written is not
/// run but answered `6985`, and channel 1 forgets the ChipDoc applet, as when another stack or process reset
/// it: later commands on channel 1 get `6881` until the ChipDoc AID is selected again. `after=N` lets N such
/// commands through first (to hit, say, a PSO rather than the first READ BINARY). It fires once per write of
/// the plan file; rewrite the file to arm it again. It damages commands, not answers, but never a
/// VERIFY with a PIN that the card then compares, so it cannot spend a try either.
///
/// Counters go to `<plan>.stats` (JSON, rewritten after each command while a plan file is set):
/// commands seen, faults injected by kind, and the VERIFYs with a PIN that the card refused (`63Cx`),
/// which are the tries really spent.
package final class CardFaultInjector: @unchecked Sendable {
    package enum Kind: String, CaseIterable, Sendable {
        case wrongLength = "wrong-length"
        case wrongStatusWord = "wrong-sw"
        case truncatedTLV = "truncated-tlv"
        case endless61xx = "endless-61xx"
    }

    private struct Plan: Equatable {
        var kinds: [Kind] = []
        var lostContextOnce = false
        var lostContextAfter = 0
        var rate = 0.0
        var seed: UInt64 = 1
    }

    private let planPath: String
    /// Modification date and size of the plan file when last read.
    private var planStamp: (Date?, Int) = (nil, -1)
    private var plan = Plan()
    private var random = SplitMix64(seed: 1)
    /// Set while an injected endless chain runs: every GET RESPONSE is answered `61xx` until another command.
    private var inEndlessChain = false
    private var commands = 0
    private var injected: [Kind: Int] = [:]
    private var verifyRefused = 0
    private var verifyAccepted = 0
    /// `lost-context-once` is armed (set when such a plan is read, cleared when it fires).
    private var lostContextArmed = false
    /// Eligible ChipDoc commands still let through before it fires.
    private var lostContextSkip = 0
    private var lostContextInjected = 0

    /// The injector configured by the environment, or nil (the normal case).
    package static func fromEnvironment() -> CardFaultInjector? {
        guard let path = ProcessInfo.processInfo.environment["CPS_VCARD_FAULTS"], !path.isEmpty else { return nil }
        return CardFaultInjector(planPath: path)
    }

    package init(planPath: String) {
        self.planPath = planPath
    }

    /// The answer to send for `command`, given the card's genuine `response` (data ‖ SW1 SW2).
    /// Not thread-safe: the card calls it under its own lock.
    package func answer(_ command: [UInt8], genuine response: [UInt8]) -> [UInt8] {
        reloadPlanIfChanged()
        commands += 1
        countVerify(command, response)
        let answer = damage(command, response)
        writeStats()
        return answer
    }

    /// The channel whose ChipDoc context `command` makes the card lose (`lost-context-once`), or nil. Asked
    /// before the card runs the command; the card then answers 6985 through ``answer(_:genuine:)``.
    package func losesChipDocContext(_ command: [UInt8], generation: CardGeneration) -> UInt8? {
        reloadPlanIfChanged()
        guard lostContextArmed, generation == .cps4, command.count >= 4 else { return nil }
        let cla = command[0]
        let ins = command[1]
        // A SELECT by name is how the context comes back, so it is never the command that loses it.
        let selectsByName = ins == 0xA4 && command[2] == 0x04
        guard cla & 0xEC == 0, cla & 0x03 == CPS4.chipDocChannel, !selectsByName, ins != Self.insGetResponse else {
            return nil
        }
        guard lostContextSkip == 0 else {
            lostContextSkip -= 1
            return nil
        }
        lostContextArmed = false
        lostContextInjected += 1
        return CPS4.chipDocChannel
    }

    // MARK: - Faults

    private func damage(_ command: [UInt8], _ response: [UInt8]) -> [UInt8] {
        let ins = command.count > 1 ? command[1] : 0
        if ins == Self.insGetResponse, inEndlessChain { return record(.endless61xx, endlessChunk()) }
        inEndlessChain = false
        guard !plan.kinds.isEmpty, random.nextDouble() < plan.rate else { return response }
        let kind = plan.kinds[Int(random.next() % UInt64(plan.kinds.count))]
        let data = Array(response.dropLast(2))
        let sw = Array(response.suffix(2))
        switch kind {
        case .wrongLength:
            // Either a shorter data field or extra bytes after it, the status word kept.
            if !data.isEmpty, random.next() % 2 == 0 {
                return record(kind, Array(data.prefix(Int(random.next() % UInt64(data.count)))) + sw)
            }
            return record(kind, data + randomBytes(1 + Int(random.next() % 40)) + sw)
        case .wrongStatusWord:
            let word = Self.statusWords[Int(random.next() % UInt64(Self.statusWords.count))]
            return record(kind, data + word)
        case .truncatedTLV:
            guard data.count > 1 else { return record(kind, [0x30, 0x82] + sw) }
            var cut = Array(data.prefix(1 + Int(random.next() % UInt64(data.count - 1))))
            if random.next() % 2 == 0 { cut[min(1, cut.count - 1)] = [0x84, 0xFF, 0x82][Int(random.next() % 3)] }
            return record(kind, cut + sw)
        case .endless61xx:
            inEndlessChain = true
            return record(kind, [0x61, UInt8(truncatingIfNeeded: 1 + random.next() % 255)])
        }
    }

    private func endlessChunk() -> [UInt8] {
        let count = Int(1 + random.next() % 64)
        return randomBytes(count) + [0x61, UInt8(truncatingIfNeeded: count)]
    }

    private func record(_ kind: Kind, _ answer: [UInt8]) -> [UInt8] {
        injected[kind, default: 0] += 1
        return answer
    }

    private func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Status words a confused or broken card might give: errors, a success in the wrong place, and
    /// `63Cx` where no PIN was checked (the daemon must not take it as a spent try and retry).
    private static let statusWords: [[UInt8]] = [
        [0x90, 0x00], [0x6A, 0x82], [0x69, 0x82], [0x69, 0x85], [0x67, 0x00], [0x6D, 0x00], [0x6F, 0x00],
        [0x65, 0x81], [0x6B, 0x00], [0x63, 0xC2], [0x63, 0xC0], [0x69, 0x83], [0x6C, 0x10], [0x62, 0x83],
        [0x00, 0x00], [0xFF, 0xFF],
    ]
    private static let insGetResponse: UInt8 = 0xC0
    private static let insVerify: UInt8 = 0x20

    // MARK: - Counting and plan file

    /// A VERIFY carrying a PIN (Lc > 0) that the genuine card answered 63Cx spent one try.
    private func countVerify(_ command: [UInt8], _ response: [UInt8]) {
        guard command.count > 5, command[1] == Self.insVerify, response.count >= 2 else { return }
        let sw1 = response[response.count - 2]
        let sw2 = response[response.count - 1]
        if sw1 == 0x63 && sw2 & 0xF0 == 0xC0 { verifyRefused += 1 }
        if sw1 == 0x90 && sw2 == 0x00 { verifyAccepted += 1 }
    }

    private func reloadPlanIfChanged() {
        let attributes = (try? FileManager.default.attributesOfItem(atPath: planPath)) ?? [:]
        let stamp = (attributes[.modificationDate] as? Date, (attributes[.size] as? NSNumber)?.intValue ?? -1)
        guard stamp != planStamp else { return }
        planStamp = stamp
        let text = (try? String(contentsOfFile: planPath, encoding: .utf8)) ?? ""
        let newPlan = Self.parse(text)
        // Every write of a lost-context plan arms it again, even with the same words.
        lostContextArmed = newPlan.lostContextOnce
        lostContextSkip = newPlan.lostContextAfter
        if newPlan != plan {
            plan = newPlan
            random = SplitMix64(seed: newPlan.seed)
            inEndlessChain = false
        }
    }

    package static let lostContextMode = "lost-context-once"

    private static func parse(_ text: String) -> Plan {
        var plan = Plan()
        for word in text.split(whereSeparator: \.isWhitespace) {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "mode" where parts[1] == lostContextMode:
                plan.lostContextOnce = true
            case "mode":
                plan.kinds = parts[1] == "random" ? Kind.allCases : Kind(rawValue: parts[1]).map { [$0] } ?? []
            case "rate": plan.rate = Double(parts[1]) ?? 0
            case "seed": plan.seed = UInt64(parts[1]) ?? 1
            case "after": plan.lostContextAfter = max(0, Int(parts[1]) ?? 0)
            default: continue
            }
        }
        return plan
    }

    private func writeStats() {
        var faults: [String: Int] = [:]
        for kind in Kind.allCases { faults[kind.rawValue] = injected[kind, default: 0] }
        faults[Self.lostContextMode] = lostContextInjected
        let stats: [String: Any] = [
            "commands": commands, "faults": faults,
            "verifyRefused": verifyRefused, "verifyAccepted": verifyAccepted,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: stats, options: [.sortedKeys]) else { return }
        // Atomic (write then rename), so a reader never sees half a file.
        try? data.write(to: URL(fileURLWithPath: planPath + ".stats"), options: .atomic)
    }
}

/// A small seeded generator (SplitMix64): the same plan and seed give the same faults.
private struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
