import ErrorShape

/// Why the bridge did not start listening; cpsd logs it and keeps serving PKCS#11 without the bridge.
package struct BridgeStartError: CodedError {
    package enum Code: String, ErrorCode {
        case portInUse = "port in use"
        case bind = "cannot listen"
        case tls = "cannot set up TLS"
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The reason alone: it already says what failed, in the words the log line and `cpsctl diag` show.
    package var description: String { reason }
}
