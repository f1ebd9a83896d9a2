import ErrorShape

/// Polls `probe` until it returns a value: a daemon converges on events it gets asynchronously. The
/// deadline only bounds a failing test (which then fails with `WaitTimedOut`); nothing is asserted about time.
package func eventually<T>(
    _ what: String, timeout: Duration = .seconds(60), _ probe: () throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try probe() { return value }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw WaitTimedOut(.timedOut, "timed out waiting for \(what)")
}

/// What `eventually` throws when the awaited state never came.
package struct WaitTimedOut: CodedError {
    package enum Code: String, ErrorCode {
        case timedOut = "timed out"
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
