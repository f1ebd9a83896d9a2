import ErrorShape
import SmartCardCore

/// Why the PKCS#11 socket server could not start.
package struct PKCS11SocketServerError: CodedError {
    package enum Code: String, ErrorCode {
        /// The path does not fit in sockaddr_un.
        case pathTooLong
        /// Another server answers on the socket.
        case addressInUse
        /// socket/bind/listen failed; `errno` says why.
        case socketFailed
        /// start() was called twice.
        case alreadyStarted
    }

    package let code: Code
    package let reason: String
    package let errno: Int32?

    package init(_ code: Code, _ reason: String, errno: Int32? = nil) {
        self.code = code
        self.reason = reason
        self.errno = errno
    }

    package var description: String { "\(code.rawValue): \(reason)" + (errno.map { " (errno \($0))" } ?? "") }
}
