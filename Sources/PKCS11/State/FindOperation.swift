import PKCS11Constants

/// C_FindObjectsInit / C_FindObjects / C_FindObjectsFinal on one session.
package struct FindOperation: Sendable {
    private enum State: Sendable {
        case idle
        case active(results: [UInt], position: Int)
    }

    private var state = State.idle

    package init() {}

    package var isActive: Bool { if case .active = state { true } else { false } }

    package mutating func begin(results: [UInt]) throws(PKCS11Error) {
        guard case .idle = state else { throw PKCS11Error(.operationActive) }
        state = .active(results: results, position: 0)
    }

    package mutating func next(max: Int) throws(PKCS11Error) -> [UInt] {
        guard case .active(let results, let position) = state else { throw PKCS11Error(.operationNotInitialized) }
        let end = min(results.count, position + Swift.max(max, 0))
        state = .active(results: results, position: end)
        return Array(results[position..<end])
    }

    package mutating func end() throws(PKCS11Error) {
        guard case .active = state else { throw PKCS11Error(.operationNotInitialized) }
        state = .idle
    }
}
