import ArgumentParser
import CardIdentity
import Foundation
import IASECC
import PCSC
import SmartCardCore

/// `cpsctl bench card`: what reading a card costs cold, and what each key's signature costs.
struct CardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "Cold read (time, APDUs, bytes) and sign latency of each key.",
        discussion: "Asks for the PIN (or reads it from --pin-fd) to measure signatures; spends no try when it is right."
    )

    @OptionGroup var selection: ReaderSelection
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "Cold reads measured.")
    var reads = 20

    @Option(name: .long, help: "Signatures measured per key.")
    var signatures = 50

    func run() async throws {
        let backend = PCSCBackend()
        let name = try selection.readerName(backend: backend)
        let clock = ContinuousClock()
        var readTimes: [Duration] = []
        var cost = (exchanges: 0, sent: 0, received: 0)
        for _ in 0..<reads {
            let start = clock.now
            let connection = try CLIError.wrap { try backend.connect(to: name) }
            cost = try CLIError.wrap {
                try connection.withTransaction { session in
                    let contents = try CardDrivers.driver(for: session).readCard(&session)
                    _ = try contents.authenticationKey.flatMap(contents.certificate(for:)).map {
                        try HolderIdentity(certificateDER: $0.der)
                    }
                    return (session.exchangeCount, session.bytesSent, session.bytesReceived)
                }
            }
            readTimes.append(clock.now - start)
            connection.disconnect(.leave)
        }
        print("reader: \(name)")
        print(LatencyStatistics.line(label: "cold read (connect, serial, counters, PKCS#15, 2 certificates, identity)", samples: readTimes))
        print("cold read cost: \(cost.exchanges) APDU exchanges, \(cost.sent) bytes sent, \(cost.received) bytes received")
        try benchSignatures(backend: backend, reader: name)
    }

    private func benchSignatures(backend: PCSCBackend, reader: String) throws {
        let pin = try secrets.pin("PIN")
        let connection = try CLIError.wrap { try backend.connect(to: reader) }
        defer { connection.disconnect(.leave) }
        let digestInfo = SignatureHash.sha256.digestInfoPrefix + [UInt8](repeating: 0x5A, count: 32)
        let authRequest = SignatureRequest.rsaPKCS(role: .authentication, input: digestInfo)
        let sigRequest = SignatureRequest(
            role: .signature, mechanism: .sha256RSAPKCS, data: [UInt8](repeating: 0x42, count: 1000))
        let clock = ContinuousClock()
        let (auth, sig, verify, kind) = try CLIError.wrap {
            try connection.withTransaction { session -> ([Duration], [Duration], Duration, CardKind) in
                let driver = try CardDrivers.driver(for: session)
                try secrets.check(pin, length: driver.pinLength, what: "PIN")
                let verify = try clock.measure { try driver.verifyPIN(&session, pin) }
                let auth = try (0..<signatures).map { _ in try clock.measure { _ = try driver.sign(&session, authRequest) } }
                let sig = try (0..<signatures).map { _ in try clock.measure { _ = try driver.sign(&session, sigRequest) } }
                return (auth, sig, verify, driver.kind)
            }
        }
        // What the card is sent differs by generation (cps4-card.md §7): say which.
        let (authShape, sigShape) =
            kind == .cps4
            ? ("host type-1 padding + MSE SET CT + chained PSO DECIPHER", "host SHA-256 + MSE SET DST + PSO CDS")
            : ("MSE SET AT + INTERNAL AUTHENTICATE", "MSE HT + PSO HASH + MSE DST + PSO CDS")
        print("VERIFY PIN: \(LatencyStatistics.format(verify))")
        print(LatencyStatistics.line(label: "sign, authentication key, \(kind.rawValue) (\(authShape))", samples: auth))
        print(LatencyStatistics.line(label: "sign, signature key, SHA-256 of 1000 bytes, \(kind.rawValue) (\(sigShape))", samples: sig))
    }
}
