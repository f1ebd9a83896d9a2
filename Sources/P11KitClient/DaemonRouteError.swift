/// Why cpsctl will not talk to the process at cpsd's socket; `reason` says what to do.
package struct DaemonRouteError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: Hashable, Sendable {
        /// Nothing answers at the socket any more.
        case notAnswering
        /// The process listening runs as another user.
        case foreignServer
        /// The socket's directory could be changed by another user, or cannot be examined.
        case unsafeDirectory
    }

    package var code: Code
    package var reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
