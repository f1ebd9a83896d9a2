import ErrorShape
/// Why a Web eID value (origin, nonce, token) was refused. Codes are what a caller can act on; the message
/// says what was wrong, for logs and error bodies (it never carries secrets: origins and nonces are public).
/// The shape of SmartCardCore's `CodedError`, written out: this target does not depend on SmartCardCore.
package struct WebEidError: CodedError {
    package enum Code: String, ErrorCode {
        /// The origin is not a well-formed `scheme://host[:port]` (path, query, userinfo, bad host, too long).
        case invalidOrigin
        /// The origin is well formed but its scheme is not `https` or `wss`.
        case insecureOrigin
        /// The challenge nonce is shorter than 44 or longer than 128 characters, or not printable ASCII.
        case invalidNonce
        /// A token field cannot be encoded or decoded (not standard base64, not JSON).
        case malformedToken
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

}
