import ErrorShape

/// Why cpsctl will not talk to the process at cpsd's socket; `reason` says what to do.
package struct DaemonRouteError: CodedError {
    package enum Code: String, ErrorCode {
        /// Nothing answers at the socket any more.
        case notAnswering = "not answering"
        /// The process listening runs as another user.
        case foreignServer = "foreign server"
        /// The socket's directory could be changed by another user, or cannot be examined.
        case unsafeDirectory = "unsafe directory"
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
