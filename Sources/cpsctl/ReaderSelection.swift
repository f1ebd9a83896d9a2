import ArgumentParser
import PCSC
import SmartCardCore

/// Chooses the reader a command works on: the one named, or the only reader holding a card.
struct ReaderSelection: ParsableArguments {
    @Option(name: .long, help: "Reader name (default: the reader with a card in it).")
    var reader: String?

    func connect(backend: some CardBackend) throws -> any CardConnection {
        let name = try readerName(backend: backend)
        return try CLIError.wrap { try backend.connect(to: name) }
    }

    func readerName(backend: some CardBackend) throws -> String {
        let readers = try CLIError.wrap { try backend.listReaders() }
        if let reader {
            guard readers.contains(where: { $0.name == reader }) else {
                throw CLIError("No reader named \"\(reader)\". Readers: \(readers.map(\.name).joined(separator: ", "))")
            }
            return reader
        }
        guard !readers.isEmpty else { throw CLIError.noReaders }
        let withCard = readers.filter(\.cardPresent)
        guard let first = withCard.first else {
            throw CLIError("No card in any reader (\(readers.count) reader(s) found). Insert the card.")
        }
        return first.name
    }
}

/// A failure explained for a person, with what to do about it.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static let noReaders = CLIError(
        "No smart-card reader found. Plug in the reader, then run `cpsctl readers` again. "
            + "Without a reader, e-CPS (the mobile app) is the way to log in to Pro Santé Connect.")

    /// Turns the PC/SC error groups into advice.
    static func explain(_ error: CardError) -> CLIError {
        switch error.code {
        case .serviceUnavailable:
            CLIError(
                "pcscd (the PC/SC service) is not running or not reachable. Start it with "
                    + "`sudo systemctl start pcscd.socket` (package pcscd). [\(error.reason)]")
        case .noReaders: noReaders
        case .accessDenied:
            CLIError(
                "pcscd refused access: polkit allows only the active local session. Run from the desktop "
                    + "session, not over SSH. [\(error.reason)]")
        case .cardRemoved, .noCard: CLIError("The card was removed or is not inserted. [\(error.reason)]")
        case .sharingViolation:
            CLIError("Another program holds the card exclusively. Close it and retry. [\(error.reason)]")
        default: CLIError("\(error)")
        }
    }

    static func wrap<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as CardError {
            throw explain(error)
        }
    }
}
