import BridgeProtocol
import CardDaemon
import CardIdentity
import Foundation
import Logging
import PKCS11
import PKCS11Constants
import SmartCardCore
import WebEid

/// The two card routes. Each holds the operation gate from before its dialog until the card is done,
/// so one user answers one question at a time.
extension BridgeService {
    /// Web eID authentication: PIN dialog, then the authentication key signs
    /// SHA-256(SHA-256(origin) ‖ SHA-256(nonce)); the card forgets the PIN at once (logout).
    /// A wrong PIN is reported with the tries left, never retried.
    func authenticate(_ request: BridgeMessages.AuthenticateRequest, caller: Caller) throws(BridgeError) -> WebEidToken {
        let requestID = request.requestId
        let origin: WebOrigin
        do {
            origin = try WebOrigin(validating: request.origin)
            try ChallengeNonce.validate(request.challengeNonce)
        } catch {
            throw BridgeError(
                error.code == .insecureOrigin ? .insecureOrigin : .invalidArgument, error.reason, requestID: requestID)
        }
        guard !challenges.contains(origin: origin.serialized, nonce: request.challengeNonce) else {
            throw BridgeError(.invalidArgument, "this challenge was already signed for this origin", requestID: requestID)
        }
        let ticket = try gate.begin(requestID: requestID, caller: caller.origin)
        defer { gate.end(ticket) }
        let card = try CardChoice.current(cards.slots(), requestID: requestID)
        guard card.token.pin.triesLeft > 0 else {
            throw BridgeError(.pinBlocked, "the card's PIN is blocked: unblock it with cpsctl pin unblock", retriesLeft: 0, requestID: requestID)
        }
        let question = PINQuestion(
            origin: origin.serialized, holder: card.holderLine, triesLeft: card.token.pin.triesLeft,
            maxTries: card.token.pin.maxTries, timeout: configuration.userTimeout)
        let pin = try withRequestID(requestID) { () throws(BridgeError) in try dialogs.askPIN(question, hook: ticket.hook) }
        guard ticket.hook.closeCancellation() else {
            throw BridgeError(.userCancelled, "cancelled", requestID: requestID)
        }
        let client = clients.make()
        defer { _ = try? cards.performBlocking(cards.logoutOperation(client: client, slot: card.slot)) }
        let digestInfo = WebEidSignedData.sha256DigestInfo(origin: origin, nonce: request.challengeNonce)
        let signature: [UInt8]
        do throws(TokenError) {
            signature = try cards.performBlocking(
                cards.signatureOperation(
                    client: client, slot: card.slot, generation: card.token.generation,
                    request: .rsaPKCS(role: .authentication, input: digestInfo), pin: pin, origin: .typedForThisOperation))
        } catch {
            logger.notice("bridge authentication failed", metadata: [
                "origin": "\(origin.serialized)", "extension": "\(caller.origin)", "error": "\(error.code.rawValue)",
            ])
            throw Self.map(error, requestID: requestID)
        }
        challenges.record(origin: origin.serialized, nonce: request.challengeNonce)
        logger.notice("bridge authentication", metadata: [
            "origin": "\(origin.serialized)", "extension": "\(caller.origin)", "result": "ok",
        ])
        return WebEidToken.rs256(
            certificateDER: card.certificate.der, signature: signature, appVersion: configuration.appVersionURL)
    }

    /// The signature certificate, after the user's consent (no PIN).
    func signingCertificate(
        _ request: BridgeMessages.SigningCertificateRequest, caller: Caller
    ) throws(BridgeError) -> BridgeMessages.SigningCertificateResponse {
        let origin: WebOrigin
        do {
            origin = try WebOrigin(validating: request.origin)
        } catch {
            throw BridgeError(
                error.code == .insecureOrigin ? .insecureOrigin : .invalidArgument, error.reason, requestID: request.requestId)
        }
        let ticket = try gate.begin(requestID: request.requestId, caller: caller.origin)
        defer { gate.end(ticket) }
        let card = try CardChoice.current(cards.slots(), requestID: request.requestId)
        guard let certificate = card.token.certificates.first(where: { $0.role == .signature }) else {
            throw BridgeError(.cardNotSupported, "the card has no signature certificate", requestID: request.requestId)
        }
        try withRequestID(request.requestId) { () throws(BridgeError) in
            try dialogs.askConsent(
                origin: origin.serialized, holder: card.holderLine, timeout: configuration.userTimeout, hook: ticket.hook)
        }
        return BridgeMessages.SigningCertificateResponse(certificate: Data(certificate.der).base64EncodedString())
    }

    private func withRequestID<R: ~Copyable>(
        _ requestID: String?, _ body: () throws(BridgeError) -> R
    ) throws(BridgeError) -> R {
        do {
            return try body()
        } catch {
            var error = error
            error.requestID = requestID
            throw error
        }
    }

    /// TokenError → the bridge's codes; the tries left travel with a wrong PIN.
    static func map(_ error: TokenError, requestID: String?) -> BridgeError {
        switch error.code {
        case .pinIncorrect:
            BridgeError(.pinInvalid, "wrong PIN", retriesLeft: error.triesLeft, requestID: requestID)
        case .pinLocked:
            BridgeError(.pinBlocked, "the card's PIN is blocked", retriesLeft: 0, requestID: requestID)
        case .pinLengthRange, .pinInvalid:
            BridgeError(.pinInvalid, "a CPS PIN is 4 digits (no try was spent)", requestID: requestID)
        case .tokenNotPresent, .deviceRemoved, .slotInvalid:
            BridgeError(.cardNotPresent, "the card was removed", requestID: requestID)
        case .deviceError:
            BridgeError(.cardIO, "the reader or the card failed: \(error.reason)", requestID: requestID)
        case .cancelled:
            BridgeError(.userCancelled, "PIN entry cancelled on the reader", requestID: requestID)
        case .notLoggedIn, .dataLengthRange, .dataInvalid, .mechanismInvalid, .functionFailed, .encryptedDataInvalid:
            BridgeError(.internalError, error.reason, requestID: requestID)
        }
    }
}
