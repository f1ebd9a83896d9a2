import BridgeProtocol
import ArgumentParser
import BridgeClient
import Foundation
import LocalCA
import NIOHTTP1
import P11KitClient
import SmartCardCore
import WebEid

/// `cpsctl bench bridge`: what a card login through the browser bridge costs, next to a PKCS#11
/// signature of the same digest through cpsd. The bridge's figure includes the PIN dialog (pinentry is
/// started, asked, and ends for every login), the VERIFY, the signature and the card's reset; the
/// PKCS#11 figure is C_Sign alone in a logged-in session.
struct BridgeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Authenticate latency through the bridge (PIN dialog included) versus a PKCS#11 signature of the same digest.",
        discussion: """
            Needs cpsd running with its bridge and a paired caller token (--token-file). Every login shows \
            the PIN dialog: run it with a pinentry that answers by itself (make bench uses the scripted one).
            """
    )

    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var selection: ReaderSelection
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "The bridge's port.")
    var port = BridgeEndpoint.defaultPort

    @Option(name: .long, help: "A file holding the bearer token of a paired caller.")
    var tokenFile: String

    @Option(name: .long, help: "The Origin to present (the extension's).")
    var extensionOrigin = "chrome-extension://\(BridgeExtensionIDs.chromium)"

    @Option(name: .long, help: "The web origin the logins are for.")
    var origin = "https://localhost:8443"

    @Option(name: .long, help: "Logins to time.")
    var count = 50

    func run() async throws {
        guard !daemon.direct, let route = daemon.route() else { throw CLIError("cpsd is not running.") }
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory())
        guard let certificatePEM = try? store.load()?.certificatePEM else {
            throw CLIError("no bridge certificate in \(store.directory.path): has cpsd started its bridge?")
        }
        let client = try BridgeHTTPSClient(port: port, pinnedCertificatePEM: certificatePEM)
        let headers = [
            ("Origin", extensionOrigin), ("X-CPS-Bridge", "1"), ("Content-Type", "application/json"),
            ("Authorization", "Bearer \(token)"),
        ]
        let webOrigin = try WebOrigin(validating: origin)
        let clock = ContinuousClock()
        var bridgeTimes: [Duration] = []
        var lastNonce = ""
        for _ in 0..<count {
            lastNonce = ChallengeNonce.generate()
            let body = try JSONSerialization.data(withJSONObject: ["origin": origin, "challengeNonce": lastNonce])
            let start = clock.now
            let answer = try client.send(.POST, "/v1/authenticate", headers: headers, body: Array(body))
            bridgeTimes.append(clock.now - start)
            guard answer.status == 200 else {
                throw CLIError("the bridge answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
            }
        }
        let statusTimes = try (0..<count).map { _ in
            let start = clock.now
            _ = try client.send(.GET, "/v1/status", headers: headers)
            return clock.now - start
        }
        let pin = try secrets.pin("PIN")
        let card = try DaemonCard(route: route, reader: selection.reader)
        let digestInfo = WebEidSignedData.sha256DigestInfo(origin: webOrigin, nonce: lastNonce)
        let pkcs11Times = try card.timedSignatures(
            pin: pin, key: .authentication, mechanism: PKCS11Bench.rsaPKCS, input: digestInfo, count: count)
        print("bridge https://127.0.0.1:\(port), cpsd at \(route.socketPath), \(count) each")
        print(LatencyStatistics.line(label: "bridge GET /v1/status (TLS, kept-alive connection)", samples: statusTimes))
        print(LatencyStatistics.line(label: "bridge POST /v1/authenticate (PIN dialog + VERIFY + sign + reset)", samples: bridgeTimes))
        print(LatencyStatistics.line(label: "PKCS#11 C_Sign of the same DigestInfo (logged-in session)", samples: pkcs11Times))
        let ratio = PKCS11Bench.median(bridgeTimes) / PKCS11Bench.median(pkcs11Times)
        print(String(format: "authenticate / C_Sign median: %.1f×", ratio))
    }
}
