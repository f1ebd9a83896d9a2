import BridgeProtocol
import BrowserBridge
import CardDaemon
import CardTestSupport
import Foundation
import Logging
import PKCS11
import SmartCardCore
import Synchronization
import Testing
import VirtualCard

/// Dialogs answered by the test: each PIN question takes the next scripted answer; pairing codes are
/// recorded so the test can type them back, as a user reads them off the dialog.
final class ScriptedDialogs: BridgeDialogs {
    enum Answer: Sendable {
        case pin([UInt8])
        case cancel
    }

    private struct State {
        var answers: [Answer] = []
        var questions: [PINQuestion] = []
        var pairingCodes: [String] = []
    }

    private let state = Mutex(State())

    func script(_ answers: [Answer]) { state.withLock { $0.answers = answers } }
    var questions: [PINQuestion] { state.withLock { $0.questions } }
    var pairingCodes: [String] { state.withLock { $0.pairingCodes } }

    func askPIN(_ question: PINQuestion, hook: CancellationHook) throws(BridgeError) -> SecretBytes {
        let answer = state.withLock { state -> Answer? in
            state.questions.append(question)
            return state.answers.isEmpty ? nil : state.answers.removeFirst()
        }
        guard case .pin(let digits) = answer else { throw BridgeError(.userCancelled, "the test's user cancelled") }
        return SecretBytes(count: digits.count) { target in
            for index in digits.indices { target[index] = digits[index] }
        }
    }

    func showPairingCode(extensionOrigin: String, code: String, timeout: Duration, hook: CancellationHook) throws(BridgeError) {
        state.withLock { $0.pairingCodes.append(code) }
    }

    func askConsent(origin: String, holder: String, timeout: Duration, hook: CancellationHook) throws(BridgeError) {}
}

/// The bridge's request service in process, on the daemon's real card service: a virtual backend with
/// one reader and a virtual CPS3, the reader registry running, pairings in memory, scripted dialogs.
/// What the HTTPS layer adds (TLS, headers on the wire, connection limits) is tested end to end in
/// IntegrationTests; here each request is handed to `BridgeService.handle` directly.
struct BridgeServiceHarness {
    static let reader = "Bridge Test Reader 00"
    static let extensionOrigin = "chrome-extension://\(BridgeExtensionIDs.chromium)"

    let backend = VirtualBackend()
    let card = TestCards.card()
    let dialogs = ScriptedDialogs()
    let registry: ReaderRegistry
    let cards: CardService
    let service: BridgeService
    let port = 36_443

    init() {
        let logger = Logger(label: "bridge-test") { _ in SwiftLogNoOpLogHandler() }
        registry = ReaderRegistry(backend: backend, logger: logger)
        cards = CardService(registry: registry, logger: logger)
        var configuration = BridgeConfiguration()
        configuration.port = port
        service = BridgeService(
            configuration: configuration, cards: cards, dialogs: dialogs, pairings: PairingRegistry(file: nil), logger: logger)
    }

    /// Runs `body` with the card read and the registry following events, then stops the registry.
    static func run(_ body: (BridgeServiceHarness) async throws -> Void) async throws {
        let harness = BridgeServiceHarness()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await harness.registry.run() }
            harness.backend.plugReader(reader)
            try harness.backend.insert(harness.card, into: reader)
            _ = try await eventually("the card read") { harness.cards.slots().first?.token }
            try await body(harness)
            group.cancelAll()
        }
    }

    /// One request as the extension sends it. `handle` blocks on dialogs and on the card, so it runs on
    /// a thread of its own, as the HTTP layer's workers do.
    func call(_ method: String, _ path: String, json: String? = nil, token: String? = nil, origin: String = extensionOrigin)
        async -> (status: Int, json: [String: Any])
    {
        var headers = [("Host", "127.0.0.1:\(port)"), ("Origin", origin), ("X-CPS-Bridge", "1")]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let head = BridgeRequestHead(method: method, path: path, headers: headers.map { (name: $0.0, value: $0.1) })
        let body = Array((json ?? "").utf8)
        let response = await withCheckedContinuation { (continuation: CheckedContinuation<BridgeResponse, Never>) in
            Thread { [service] in continuation.resume(returning: service.handle(head, body: body)) }.start()
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, object)
    }

    /// Pairs the extension as a user would: start, read the code off the dialog, finish. Returns the token.
    func pair() async throws -> String {
        let start = await call("POST", "/v1/pair/start", json: "{}")
        let pairingID = try #require(start.json["pairingId"] as? String, "\(start)")
        let code = try await eventually("the pairing dialog") { dialogs.pairingCodes.last }
        let finish = await call("POST", "/v1/pair/finish", json: #"{"pairingId":"\#(pairingID)","code":"\#(code)"}"#)
        return try #require(finish.json["token"] as? String, "\(finish)")
    }

    static func authenticateBody(origin: String = "https://localhost:8443", nonce: String) -> String {
        #"{"origin":"\#(origin)","challengeNonce":"\#(nonce)"}"#
    }

    static func nonce() -> String { Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }
}
