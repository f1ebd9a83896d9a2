import BridgeProtocol
package import CardDaemon
import SmartCardCore
import Foundation
package import Logging
import PKCS11

/// Routes an admitted request to its handler. Blocking: dialogs and card work run on the calling
/// thread, which the HTTP layer takes off its event loop.
package final class BridgeService: Sendable {
    let configuration: BridgeConfiguration
    let policy: CallerPolicy
    let cards: CardService
    let dialogs: any BridgeDialogs
    let pairings: PairingRegistry
    let gate = OperationGate()
    let limits = LimitTable()
    let logger: Logger
    let clients = BridgeClientIDs()
    let challenges = ChallengeMemory()

    package init(
        configuration: BridgeConfiguration, cards: CardService, dialogs: any BridgeDialogs,
        pairings: PairingRegistry, logger: Logger
    ) {
        self.configuration = configuration
        policy = CallerPolicy(port: configuration.port, extraChromiumIDs: configuration.extraChromiumIDs)
        self.cards = cards
        self.dialogs = dialogs
        self.pairings = pairings
        self.logger = logger
    }

    /// The whole request: policy, rate limit, route. Never throws: every failure is an answer.
    package func handle(_ head: BridgeRequestHead, body: [UInt8]) -> BridgeResponse {
        do throws(BridgeError) {
            let caller = try policy.admit(head)
            guard body.count <= CallerPolicy.maximumBodyBytes else {
                throw BridgeError(.payloadTooLarge, "the body may not exceed \(CallerPolicy.maximumBodyBytes) bytes")
            }
            guard limits.admit(caller.origin, route: head.path) else {
                throw BridgeError(.rateLimited, "too many requests; wait a moment")
            }
            return try route(head, body: body, caller: caller)
        } catch {
            if error.code != .rateLimited {
                logger.info("bridge refused", metadata: ["path": "\(head.path)", "code": "\(error.code.rawValue)"])
            }
            return BridgeResponse(error)
        }
    }

    private func route(_ head: BridgeRequestHead, body: [UInt8], caller: Caller) throws(BridgeError) -> BridgeResponse {
        switch (head.method, head.path) {
        // POST too: browsers send no Origin header with an extension's GET (the extension's host permission
        // spares it CORS), and callers are admitted by their Origin. The WebExtension always POSTs.
        case ("GET", "/v1/status"), ("POST", "/v1/status"):
            return .ok(status(paired: pairings.isPaired(caller)))
        case ("POST", "/v1/pair/start"):
            return .ok(try startPairing(caller))
        case ("POST", "/v1/pair/finish"):
            let request = try BridgeMessages.decode(BridgeMessages.PairFinishRequest.self, body)
            let token = try pairings.finish(id: request.pairingId, code: request.code, origin: caller.origin)
            logger.notice("bridge paired", metadata: ["extension": "\(caller.origin)"])
            return .ok(BridgeMessages.PairFinishResponse(token: token))
        case ("POST", "/v1/authenticate"):
            try requirePairing(caller)
            let request = try BridgeMessages.decode(BridgeMessages.AuthenticateRequest.self, body)
            return .ok(try authenticate(request, caller: caller))
        case ("POST", "/v1/signing-certificate"):
            try requirePairing(caller)
            let request = try BridgeMessages.decode(BridgeMessages.SigningCertificateRequest.self, body)
            return .ok(try signingCertificate(request, caller: caller))
        case ("POST", "/v1/cancel"):
            try requirePairing(caller)
            let request = try BridgeMessages.decode(BridgeMessages.CancelRequest.self, body)
            return .ok(BridgeMessages.CancelResponse(cancelled: gate.cancel(requestID: request.requestId, caller: caller.origin)))
        default:
            throw BridgeError(.notFound, "no route \(head.method) \(head.path)")
        }
    }

    private func requirePairing(_ caller: Caller) throws(BridgeError) {
        guard pairings.isPaired(caller) else {
            throw BridgeError(.unauthorizedCaller, "this extension is not paired with cpsd (open its window to pair)")
        }
    }

    /// Unpaired: only that the bridge is there (protocol, version). Paired: also the readers and whether
    /// each holds a card, never personal data. Reader names can carry a USB serial, and whether a card
    /// is in tells a web page that its visitor is a health professional: neither before pairing.
    /// "CPS3" or "CPS4", from the token label's prefix (`CPS3v3-…`, `CPS4v1-…`), as LGC tell them apart.
    static func cardType(_ token: TokenState) -> String {
        token.label.hasPrefix("CPS4") ? "CPS4" : "CPS3"
    }

    func status(paired: Bool) -> BridgeMessages.Status {
        guard paired else { return BridgeMessages.Status(version: configuration.version, paired: false, readers: nil) }
        let readers = cards.slots().map { slot in
            BridgeMessages.Status.Reader(
                name: slot.readerName, cardPresent: slot.token != nil, cardType: slot.token.map(Self.cardType))
        }
        return BridgeMessages.Status(version: configuration.version, paired: true, readers: readers)
    }

    /// Starts a pairing and shows its code in a dialog on a thread of its own; answers at once.
    private func startPairing(_ caller: Caller) throws(BridgeError) -> BridgeMessages.PairStartResponse {
        let ticket = try gate.begin(requestID: nil, caller: caller.origin)
        let pending: PairingBook.Pending
        do {
            pending = try pairings.start(origin: caller.origin)
        } catch {
            gate.end(ticket)
            throw error
        }
        let timeout = Duration.seconds(Int(PairingBook.lifetime))
        let (dialogs, gate, logger) = (dialogs, gate, logger)
        Thread {
            defer { gate.end(ticket) }
            do throws(BridgeError) {
                try dialogs.showPairingCode(
                    extensionOrigin: pending.origin, code: pending.code, timeout: timeout, hook: ticket.hook)
            } catch {
                logger.info("pairing dialog closed", metadata: ["code": "\(error.code.rawValue)"])
            }
        }.start()
        return BridgeMessages.PairStartResponse(pairingId: pending.id, expiresIn: Int(PairingBook.lifetime))
    }
}
