/// The one shape of every error in cpsd, in every target (STYLE.md rule 3, after swift-certificates' `CertificateError`): a struct
/// with a nested `Code` that says what happened, and a `reason` that says it in words for logs (never a secret).
///
/// A conforming type declares its codes and any extra context (`triesLeft`, `statusWord`, `errno`); equality,
/// hashing and the description come from here, once. Equality and hashing look at `code` only, so tests and
/// callers match on what happened, never on the wording.
///
/// Codes are a `String`-backed enum whose raw value is the text logs and tests read, so a `switch` over them is
/// checked for exhaustiveness (each `TokenError` code maps to exactly one CKR, each `BridgeError` code to one HTTP
/// status). The one exception is `PCSCError.Code`, a struct over pcsc-lite's 32-bit values: pcscd may answer a
/// value no list names, and that value must still be carried and logged.
package protocol CodedError: Error, Hashable, Sendable, CustomStringConvertible {
    associatedtype Code: Hashable, Sendable, CustomStringConvertible
    var code: Code { get }
    var reason: String { get }
}

extension CodedError {
    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    package func hash(into hasher: inout Hasher) { hasher.combine(code) }
    /// `code: reason`; a type with more context (tries left, errno) adds it in its own `description`.
    package var description: String { "\(code): \(reason)" }
}

/// A code written as a `String`-backed enum prints as its raw value, the spelling logs and tests read.
package protocol ErrorCode: RawRepresentable<String>, Hashable, Sendable, CustomStringConvertible {}

extension ErrorCode {
    package var description: String { rawValue }
}
