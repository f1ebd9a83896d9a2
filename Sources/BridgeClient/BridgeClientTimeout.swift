import ErrorShape

/// A request the bridge did not answer in time (a program squatting the port may never answer).
package struct BridgeClientTimeout: CodedError {
    package enum Code: String, ErrorCode {
        case noAnswer = "no answer"
    }

    package let code = Code.noAnswer
    package let seconds: Int64
    package var reason: String { "no answer within \(seconds) s" }

    package init(seconds: Int64) { self.seconds = seconds }

    package var description: String { reason }
}
