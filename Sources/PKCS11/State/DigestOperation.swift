import Crypto
import PKCS11Constants
package import SmartCardCore

/// A running SHA-1 or SHA-256 (swift-crypto's value-type hashers: a copy finalizes without ending it).
package struct DigestState: Sendable {
    private enum Hasher: Sendable {
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
    }

    private var hasher: Hasher
    package let hash: SignatureHash

    package init(_ hash: SignatureHash) {
        self.hash = hash
        hasher = hash == .sha1 ? .sha1(Insecure.SHA1()) : .sha256(SHA256())
    }

    package mutating func update(_ data: [UInt8]) {
        switch hasher {
        case .sha1(var state):
            state.update(data: data)
            hasher = .sha1(state)
        case .sha256(var state):
            state.update(data: data)
            hasher = .sha256(state)
        }
    }

    package var digest: [UInt8] {
        switch hasher {
        case .sha1(let state): Array(state.finalize())
        case .sha256(let state): Array(state.finalize())
        }
    }
}

/// C_DigestInit / C_Digest / C_DigestUpdate / C_DigestFinal on one session (PKCS#11 2.40 §5.10), in software.
/// A length query or a too-small buffer keeps the operation (ANS 804, 808, 819), as for C_Sign.
///
/// Cryptolib's compatibility quirk (#1466, cryptolib-pkcs11.md §8.7; ANS 810–812): after a C_Digest length
/// query, C_DigestFinal answers the digest of the data given to that C_Digest. A second C_Digest hashes its
/// own data (the standard length-query-then-call pattern), never the data twice.
package struct DigestOperation: Sendable {
    private enum State: Sendable {
        case idle
        case initialized(SignatureHash)
        case collecting(DigestState)
        /// C_Digest answered a length (or buffer too small) for the data hashed into this state.
        case queried(DigestState)
    }

    private var state = State.idle

    package init() {}

    package var isActive: Bool { if case .idle = state { false } else { true } }

    package mutating func begin(_ hash: SignatureHash) throws(PKCS11Error) {
        guard case .idle = state else { throw PKCS11Error(.operationActive) }
        state = .initialized(hash)
    }

    /// C_Digest. `capacity` nil is the NULL-buffer length query.
    package mutating func single(data: [UInt8], capacity: Int?) throws(PKCS11Error) -> OutputResult {
        let hash: SignatureHash
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .collecting:
            // C_Digest ends the operation (PKCS#11 3.0 §5.12), even when it cannot finish a multi-part one.
            state = .idle
            throw PKCS11Error(.operationActive, "C_Digest cannot finish a multi-part digest")
        case .initialized(let current): hash = current
        case .queried(let current): hash = current.hash
        }
        var digest = DigestState(hash)
        digest.update(data)
        return answer(digest, capacity: capacity, keeping: .queried(digest))
    }

    /// C_DigestUpdate.
    package mutating func update(part: [UInt8]) throws(PKCS11Error) {
        var digest: DigestState
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let hash): digest = DigestState(hash)
        // Cryptolib had already fed C_Digest's data to the hash.
        case .collecting(let current), .queried(let current): digest = current
        }
        digest.update(part)
        state = .collecting(digest)
    }

    /// C_DigestFinal.
    package mutating func final(capacity: Int?) throws(PKCS11Error) -> OutputResult {
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let hash): return answer(DigestState(hash), capacity: capacity, keeping: state)
        case .collecting(let digest), .queried(let digest): return answer(digest, capacity: capacity, keeping: state)
        }
    }

    /// Ends the operation (session closed).
    package mutating func cancel() { state = .idle }

    private mutating func answer(_ digest: DigestState, capacity: Int?, keeping kept: State) -> OutputResult {
        let length = digest.hash.digestLength
        guard let capacity else {
            state = kept
            return .length(length)
        }
        guard capacity >= length else {
            state = kept
            return .bufferTooSmall(length)
        }
        state = .idle
        return .value(digest.digest)
    }
}
