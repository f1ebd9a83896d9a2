import ArgumentParser
import Foundation
import Glibc
import SmartCardCore
import VirtualReaderStack

/// `cps-vcard stack`: a private pcscd with vpcd readers and virtual cards, in the foreground.
struct StackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stack",
        abstract: "Run a private pcscd with virtual readers and cards.",
        discussion: """
            Once every card is powered, prints the client environment as shell `export` lines on standard \
            output, then a line `ready`. Standard input takes `remove N`, `insert N`, `restart-pcscd` and \
            `quit`; SIGINT and SIGTERM stop everything.

            --generation chooses the cards made in <dir>/cards/N: cps3 (default), cps4 (NXP ChipDoc, ATR \
            offering T=0 and T=1) or cps4-t0 (T=0-only ATR). One word applies to every reader; a comma-separated \
            list gives one per reader, in order, e.g. `--readers 2 --generation cps3,cps4` puts a CPS3 in reader 0 \
            and a CPS4 in reader 1 (readers past the list's end get a CPS3). A reader given a --state directory \
            keeps that card's own generation (see `cps-vcard init --generation`).

            --timing real makes every card take the time a real one takes (transfer at the ATR's rate, on-card \
            and RSA time; see Sources/VirtualCard/Timing/CardTiming.swift); only that card's answers are late.
            """
    )

    @Option(help: ArgumentHelp("The stack's working directory.", valueName: "dir")) var dir: String
    @Option(help: "Number of virtual readers (0–16; 0 runs pcscd with no reader).") var readers = 1
    @Option(name: .customLong("state"), help: ArgumentHelp("A card state directory, for the next reader.", valueName: "dir"))
    var states: [String] = []
    @Option(help: "Number of readers that get a card (default: all).") var cards: Int?
    @Option(
        help: ArgumentHelp(
            "cps3, cps4 or cps4-t0, for all readers or as a list, one per reader.", valueName: "kind[,kind…]"))
    var generation: String?
    @Option(help: TimingOption.help) var timing: String?

    func validate() throws {
        _ = try TimingOption.parse(timing)
        guard (0...16).contains(readers) else { throw ValidationError("--readers must be 0 to 16") }
        let count = cards ?? readers
        guard (0...readers).contains(count) else { throw ValidationError("--cards must be 0 to --readers") }
        guard states.count <= count else { throw ValidationError("more --state directories than cards") }
        if let generation {
            guard let kinds = StackCardKind.list(generation) else {
                throw ValidationError("--generation takes cps3, cps4 or cps4-t0, or a comma-separated list of them")
            }
            guard kinds.count == 1 || kinds.count <= readers else {
                throw ValidationError("--generation lists \(kinds.count) cards for \(readers) readers")
            }
        }
    }

    /// The generation of the default card of reader `index`, nil when not asked for.
    private func kind(forReader index: Int) -> StackCardKind? {
        guard let generation, let kinds = StackCardKind.list(generation) else { return nil }
        if kinds.count == 1 { return kinds[0] }
        return index < kinds.count ? kinds[index] : StackCardKind("cps3")
    }

    func run() throws {
        let directory = URL(fileURLWithPath: dir).standardizedFileURL
        let timingMode = try TimingOption.parse(timing)
        let simulators: [any CardSimulator] = try (0..<(cards ?? readers)).map { index in
            let card = index < states.count
                ? try CardLoader.load(stateDirectory: URL(fileURLWithPath: states[index]))
                : try CardLoader.loadOrCreateDefault(
                    in: directory.appendingPathComponent("cards/\(index)"), kind: kind(forReader: index))
            return TimingOption.apply(timingMode, to: card)
        }
        let events = ControlEvents(signals: [SIGTERM: .quit, SIGINT: .quit])
        let stack = VirtualStack(directory: directory, readerCount: readers)
        defer { stack.stop() }
        try stack.start(cards: simulators)
        if let elapsed = stack.coldStartDuration { status("stack ready in \(elapsed.formatted(.units(allowed: [.milliseconds])))") }
        // Written straight to the descriptor: stdio's fflush(NULL) would wait for the stdin lock, which
        // the control thread holds while it blocks in getline.
        var text = ""
        for (key, value) in stack.environment.sorted(by: { $0.key < $1.key }) {
            text += "export \(key)=\(Self.shellQuoted(value))\n"
        }
        FileHandle.standardOutput.write(Data((text + "ready\n").utf8))
        loop(stack, events, simulators)
        status("stopped")
    }

    private func loop(_ stack: VirtualStack, _ events: ControlEvents, _ simulators: [any CardSimulator]) {
        while true {
            switch events.next() {
            case .insert(let index?) where simulators.indices.contains(index):
                stack.insertCard(simulators[index], reader: index)
                status("card inserted in \(stack.readerNames[index])")
            case .remove(let index?) where stack.readerNames.indices.contains(index):
                stack.removeCard(reader: index)
                status("card removed from \(stack.readerNames[index])")
            case .restartPCSCD:
                do {
                    try stack.restartPCSCD()
                    status("pcscd restarted")
                } catch {
                    status("pcscd restart failed: \(error)")
                }
            case .quit:
                return
            default:
                status("unknown command; use insert N, remove N, restart-pcscd or quit (N: 0-\(simulators.count - 1))")
            }
        }
    }

    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
