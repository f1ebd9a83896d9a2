/// Why a virtual reader stack could not start or be driven.
package struct VirtualStackError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, grouped by what the caller can do about it.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        package var description: String { name }

        /// The stack directory or its files could not be written (fatal for this directory).
        package static let filesystem = Code("filesystem")
        /// No free pair of TCP ports was found for the vpcd readers (retriable).
        package static let noFreePorts = Code("noFreePorts")
        /// pcscd or its wrapper could not be spawned, or exited before it was ready (see the log tail).
        package static let pcscdFailed = Code("pcscdFailed")
        /// pcscd did not create its socket in time (retriable).
        package static let pcscdTimeout = Code("pcscdTimeout")
        /// No private mount namespace here and another pcscd already owns the standard socket.
        package static let isolationUnavailable = Code("isolationUnavailable")
        /// A card was not powered by its reader in time.
        package static let cardNotPowered = Code("cardNotPowered")
        /// The stack is not in a state that allows the call (e.g. started twice).
        package static let invalidState = Code("invalidState")
    }

    package let code: Code
    package let reason: String
    package let file: String
    package let line: Int

    package init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    package var description: String { "VirtualStackError.\(code): \(reason)" }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
