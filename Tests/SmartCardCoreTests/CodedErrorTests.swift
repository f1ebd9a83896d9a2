import ErrorShape
import SmartCardCore
import Synchronization
import Testing

/// The driver chain's shape in miniature: an operation's own error that also carries a transport failure.
private struct OperationError: CodedError, CardErrorCarrier {
    enum Code: String, ErrorCode {
        case refused = "refused"
        case transport = "card transport"
    }

    let code: Code
    let reason: String
    let cardError: CardError?

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
        self.cardError = nil
    }

    init(_ cardError: CardError) {
        self.code = .transport
        self.reason = cardError.description
        self.cardError = cardError
    }
}

/// A connection whose transaction calls fail on demand, and which counts the ends it was asked for.
private final class FailingTransactions: CardConnection, Sendable {
    let readerName = "failing"
    let atr = try! ATR(bytes: CardKind.cps3ContactATR)
    private let failures: Mutex<(begin: CardError?, end: CardError?, ends: Int)>

    init(begin: CardError? = nil, end: CardError? = nil) { failures = Mutex((begin, end, 0)) }

    var endCount: Int { failures.withLock { $0.ends } }

    func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8] { [0x90, 0x00] }
    func beginTransaction() throws(CardError) {
        if let error = failures.withLock({ $0.begin }) { throw error }
    }
    func endTransaction(_ disposition: CardDisposition) throws(CardError) {
        if let error = failures.withLock({ state -> CardError? in
            state.ends += 1
            return state.end
        }) { throw error }
    }
    func reconnect(_ initialization: CardDisposition) throws(CardError) {}
    func disconnect(_ disposition: CardDisposition) {}
}

@Suite("one error shape, typed through the transaction")
struct CodedErrorTests {
    @Test("errors compare by code; descriptions and raw values are the strings logs read")
    func shape() {
        #expect(CardError(.cardRemoved, "one") == CardError(.cardRemoved, "two"))
        #expect(CardError(.cardRemoved, "one") != CardError(.cardReset, "one"))
        #expect(Set([CardError(.noCard, "a"), CardError(.noCard, "b")]).count == 1)
        #expect(CardError(.serviceUnavailable, "pcscd is gone").description == "PC/SC service unavailable: pcscd is gone")
        #expect(CardError.Code.accessDenied.group == .user && CardError.Code.timeout.group == .retriable)
        #expect(CardError.Code.malformedResponse.group == .fatal)
        #expect("\(OperationError.Code.transport)" == "card transport")
    }

    @Test("a typed body gets a failure to begin as its own error type, carrying the card error; it never runs")
    func beginFailure() {
        let connection = FailingTransactions(begin: CardError(.sharingViolation, "held"))
        var ran = false
        let error = #expect(throws: OperationError.self) {
            try connection.withTransaction { (_) throws(OperationError) in ran = true }
        }
        #expect(error?.code == .transport && error?.cardError?.code == .sharingViolation)
        #expect(!ran && connection.endCount == 0)
    }

    @Test("a failure to end after the body succeeded is the body's error type; the body's own error passes as is")
    func endFailure() {
        let ending = FailingTransactions(end: CardError(.cardRemoved, "pulled"))
        let error = #expect(throws: OperationError.self) {
            try ending.withTransaction { (_) throws(OperationError) in 1 }
        }
        #expect(error?.cardError?.code == .cardRemoved)

        let refusing = FailingTransactions()
        let refusal = #expect(throws: OperationError.self) {
            try refusing.withTransaction { (_) throws(OperationError) in throw OperationError(.refused, "no") }
        }
        #expect(refusal?.code == .refused && refusal?.cardError == nil)
        #expect(refusing.endCount == 1, "the transaction ends after the body failed")
    }

    @Test("the verifying transaction throws a failure to begin as the body's error type too")
    func verifyingTransaction() {
        let connection = FailingTransactions(begin: CardError(.cardReset, "reset"))
        let error = #expect(throws: OperationError.self) {
            try connection.withVerifyingTransaction(foundVerified: { false }) { (_) throws(OperationError) in 1 }
        }
        #expect(error?.cardError?.code == .cardReset)
    }
}
