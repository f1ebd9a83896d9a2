import ArgumentParser
import CardIdentity
import Foundation
import IASECC
import SmartCardCore

/// `cpsctl card`: what is on the card, without a PIN.
struct CardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "Show the card's holder, certificates and counters, or export its certificates.",
        subcommands: [CardInfoCommand.self, CardCertsCommand.self]
    )
}

struct CardInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Holder, card type, serial, certificates and PIN/PUK counters. Asks for no PIN, spends no try."
    )

    @OptionGroup var card: CardOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var trust: TrustOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        if let route = daemon.route() { return try await runViaDaemon(route) }
        let (reader, contents) = try card.withDriver { session, driver in
            (session.readerName, try driver.readCard(&session))
        }
        let report = try await CardReport(reader: reader, contents: contents, trustStore: trust.load())
        print(json ? try report.jsonText() : report.text)
    }
}

struct CardCertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Export the card's certificates as auth.pem, auth.der, sig.pem and sig.der."
    )

    @OptionGroup var card: CardOptions
    @OptionGroup var daemon: DaemonOptions

    @Option(name: .long, help: "Directory to write the certificates into (created if missing).")
    var export: String

    func run() async throws {
        if let route = daemon.route() { return try runViaDaemon(route) }
        let contents = try card.withDriver { try $1.readCard(&$0) }
        let directory = URL(fileURLWithPath: export)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, key) in [("auth", contents.authenticationKey), ("sig", contents.signatureKey)] {
            guard let key, let certificate = contents.certificate(for: key) else {
                throw CLIError("The card has no \(name) certificate.")
            }
            try Data(certificate.der).write(to: directory.appendingPathComponent("\(name).der"))
            try PEM.encode(certificate.der).write(
                to: directory.appendingPathComponent("\(name).pem"), atomically: true, encoding: .utf8)
            print("\(directory.appendingPathComponent(name).path).{pem,der}: \(certificate.object.label)")
        }
    }
}

enum PEM {
    static func encode(_ der: [UInt8], label: String = "CERTIFICATE") -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }
}
