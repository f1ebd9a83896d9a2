import ArgumentParser
import Foundation
import PCSC
import SmartCardCore

/// `cpsctl readers`: the readers, whether a card is in each, its ATR and whether it is a CPx card.
struct ReadersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readers",
        abstract: "List readers, card presence and ATR; --watch prints insertions and removals as they happen."
    )

    @Flag(name: .long, help: "Print JSON (with --watch: one JSON object per line).")
    var json = false

    @Flag(name: .long, help: "Keep running and print reader and card events as they happen.")
    var watch = false

    func run() async throws {
        let backend = PCSCBackend()
        if watch {
            try await watchEvents(backend)
            return
        }
        let readers: [ReaderStatus]
        do {
            readers = try backend.listReaders()
        } catch {
            throw CLIError.explain(error)
        }
        if json {
            print(try ReaderReport(readers: readers).jsonText())
        } else if readers.isEmpty {
            throw CLIError.noReaders
        } else {
            readers.forEach { print(ReaderReport.text(for: $0)) }
        }
    }

    private func watchEvents(_ backend: PCSCBackend) async throws {
        // The monitor reports the current readers first, then waits inside pcsc-lite: no polling.
        for await event in backend.events() {
            let line = json ? try EventLine(event).jsonText() : EventLine(event).text
            // Unbuffered: a script reading the pipe must see each event when it happens.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}

/// The JSON shape of `cpsctl readers --json` (stable: installers' scripts read it).
struct ReaderReport: Encodable {
    struct Reader: Encodable {
        let name: String
        let cardPresent: Bool
        let atr: String?
        let cardKind: String?
        let card: String?
        let exclusive: Bool
    }

    let readers: [Reader]

    init(readers: [ReaderStatus]) {
        self.readers = readers.map { status in
            Reader(
                name: status.name, cardPresent: status.cardPresent,
                atr: status.cardPresent ? Hex.string(from: status.atr) : nil,
                cardKind: status.cardKind?.rawValue, card: status.cardKind?.displayName, exclusive: status.exclusive)
        }
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func text(for status: ReaderStatus) -> String {
        guard status.cardPresent, let kind = status.cardKind else { return "\(status.name): no card" }
        var line = "\(status.name): \(kind.displayName), ATR \(Hex.string(from: status.atr))"
        if status.exclusive { line += " (held exclusively by another program)" }
        return line
    }
}

/// One line of `cpsctl readers --watch`.
struct EventLine: Encodable {
    let time: String
    let event: String
    let reader: String?
    let atr: String?
    let cardKind: String?

    init(_ event: ReaderEvent, at date: Date = Date()) {
        time = ISO8601DateFormatter().string(from: date)
        switch event {
        case .readerAdded(let name): (self.event, reader, atr, cardKind) = ("reader-added", name, nil, nil)
        case .readerRemoved(let name): (self.event, reader, atr, cardKind) = ("reader-removed", name, nil, nil)
        case .cardInserted(let name, let bytes):
            (self.event, reader) = ("card-inserted", name)
            atr = Hex.string(from: bytes)
            cardKind = CardKind(atr: bytes).rawValue
        case .cardRemoved(let name): (self.event, reader, atr, cardKind) = ("card-removed", name, nil, nil)
        case .serviceLost: (self.event, reader, atr, cardKind) = ("pcscd-lost", nil, nil, nil)
        case .serviceRestored: (self.event, reader, atr, cardKind) = ("pcscd-restored", nil, nil, nil)
        }
    }

    var text: String {
        var parts = [time, event]
        if let reader { parts.append("\"\(reader)\"") }
        if let atr, let cardKind { parts.append("ATR \(atr) (\(CardKind(rawValue: cardKind)?.displayName ?? cardKind))") }
        return parts.joined(separator: " ")
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
