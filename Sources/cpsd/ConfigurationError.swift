import ErrorShape

/// A line of cpsd.conf that cpsd cannot use, or a file it cannot read: cpsd stops at start (or keeps its
/// previous settings on SIGHUP) and says which line.
struct ConfigurationError: CodedError {
    enum Code: String, ErrorCode {
        case unreadable = "unreadable file"
        case invalidLine = "invalid line"
    }

    let code: Code
    let reason: String
    let path: String
    let line: Int

    init(_ code: Code = .invalidLine, path: String, line: Int, _ reason: String) {
        self.code = code
        self.path = path
        self.line = line
        self.reason = reason
    }

    var description: String { "\(path):\(line): \(reason)" }
}
