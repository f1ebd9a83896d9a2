import ArgumentParser
import Foundation
import Glibc
import VirtualReaderStack

/// `cps-vcard run`: one card from a state directory, plugged into one vpcd reader port.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Plug the card of a state directory into a vpcd reader port.",
        discussion: """
            While running, lines on standard input control the card: `remove`, `insert`, `quit`. \
            Signals do too: SIGUSR1 removes the card, SIGUSR2 inserts it, SIGTERM and SIGINT quit. \
            One status line per change goes to standard error.
            """
    )

    @Option(help: ArgumentHelp("The card's state directory (made by `cps-vcard init`).", valueName: "dir"))
    var state: String

    @Option(help: ArgumentHelp("The vpcd reader port, e.g. 127.0.0.1:35963.", valueName: "host:port"))
    var vpcd: String

    @Flag(help: "Start with the card out of the reader.")
    var removed = false

    @Option(help: TimingOption.help) var timing: String?

    func validate() throws { _ = try TimingOption.parse(timing) }

    func run() throws {
        let (host, port) = try Self.endpoint(vpcd)
        let card = TimingOption.apply(
            try TimingOption.parse(timing), to: try CardLoader.load(stateDirectory: URL(fileURLWithPath: state)))
        let link = VpcdLink(card: card, host: host, port: port)
        let events = ControlEvents(signals: [SIGUSR1: .remove(nil), SIGUSR2: .insert(nil), SIGTERM: .quit, SIGINT: .quit])
        if removed {
            status("card removed (vpcd \(host):\(port))")
        } else {
            link.insert()
            status("card inserted (vpcd \(host):\(port))")
        }
        while true {
            switch events.next() {
            case .insert:
                guard !link.isInserted else { continue }
                link.insert()
                status("card inserted")
            case .remove:
                guard link.isInserted else { continue }
                link.remove()
                status("card removed")
            case .quit:
                link.stop()
                status("stopped")
                return
            case .restartPCSCD, .invalid:
                status("unknown command; use insert, remove or quit")
            }
        }
    }

    /// Splits HOST:PORT (the last colon separates the port, so `::1:35963` works too).
    static func endpoint(_ text: String) throws -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
            colon != text.startIndex
        else {
            throw ValidationError("--vpcd must be HOST:PORT, e.g. 127.0.0.1:35963")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
