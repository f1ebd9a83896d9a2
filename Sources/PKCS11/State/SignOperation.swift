package import PKCS11Constants
package import SmartCardCore

/// What a signature is made with: fixed at C_SignInit.
package struct SignContext: Sendable, Hashable {
    package var keyHandle: UInt
    package var keyLabel: String
    package var role: KeyRole
    /// The CKM_* value (audit).
    package var mechanism: CKM { signature.ckm }
    /// The modulus length in bytes: the signature's length.
    package var signatureLength: Int
    /// What the card is asked for, and for PSS the hash of the parameters.
    package var signature: SignatureMechanism
    package var pssHash: SignatureHash?

    package init(
        keyHandle: UInt, keyLabel: String, role: KeyRole, signature: SignatureMechanism, pssHash: SignatureHash? = nil,
        signatureLength: Int
    ) {
        self.keyHandle = keyHandle
        self.keyLabel = keyLabel
        self.role = role
        self.signatureLength = signatureLength
        self.signature = signature
        self.pssHash = pssHash
    }

    /// Why `data` cannot be signed with this mechanism and key size, checked before the card sees it.
    func refusal(of data: [UInt8]) -> PKCS11Error? {
        let k = signatureLength
        switch signature {
        case .rsaPKCS where data.count > k - 11:
            return PKCS11Error(.dataLenRange, "CKM_RSA_PKCS signs at most k-11 bytes")
        case .rsaX509 where data.count > k:
            return PKCS11Error(.dataLenRange, "CKM_RSA_X_509 signs at most k bytes")
        case .rsaPKCSPSS where data.count != pssHash?.digestLength:
            return PKCS11Error(.dataLenRange, "CKM_RSA_PKCS_PSS signs a digest of the parameters' hash")
        default: return nil
        }
    }
}

/// C_SignInit / C_Sign / C_SignUpdate / C_SignFinal on one session (PKCS#11 2.40 §5.11): a size query
/// or a too-small buffer keeps the operation; anything else ends it.
package struct SignOperation: Sendable {
    /// Multi-part data is buffered (CPS messages are small); beyond this, CKR_DATA_LEN_RANGE.
    package static let maxBufferedData = 16 << 20

    private enum State: Sendable {
        case idle
        case initialized(SignContext)
        case collecting(SignContext, [UInt8])
    }

    /// What the connection does next.
    package enum Action: Sendable, Hashable {
        /// Answer without the card (length query or buffer too small); the operation goes on.
        case answer(OutputResult)
        /// Ask the card to sign `data`; the operation has ended whatever the card says.
        case sign(SignContext, data: [UInt8])
        /// Refuse without the card (input too long for the mechanism); the operation has ended.
        case refuse(SignContext, PKCS11Error)
    }

    private var state = State.idle

    package init() {}

    package var isActive: Bool { if case .idle = state { false } else { true } }

    package mutating func begin(_ context: SignContext) throws(PKCS11Error) {
        guard case .idle = state else { throw PKCS11Error(.operationActive) }
        state = .initialized(context)
    }

    /// C_Sign.
    package mutating func single(data: [UInt8], capacity: Int?) throws(PKCS11Error) -> Action {
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .collecting:
            // C_Sign always ends the operation (PKCS#11 3.0 §5.13), even when it cannot finish a multi-part one.
            state = .idle
            throw PKCS11Error(.operationActive, "C_Sign cannot finish a multi-part signature")
        case .initialized(let context): return finish(context, data: data, capacity: capacity)
        }
    }

    /// C_SignUpdate.
    package mutating func update(part: [UInt8]) throws(PKCS11Error) {
        let (context, buffered): (SignContext, [UInt8])
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let current): (context, buffered) = (current, [])
        case .collecting(let current, let data): (context, buffered) = (current, data)
        }
        guard context.signature.allowsMultiPart else {
            // An error in C_SignUpdate ends the operation (PKCS#11 2.40 §5.11).
            state = .idle
            throw PKCS11Error(.functionNotSupported, "\(context.signature) signs in one part only (C_Sign)")
        }
        guard buffered.count + part.count <= Self.maxBufferedData else {
            state = .idle
            throw PKCS11Error(.dataLenRange, "more than \(Self.maxBufferedData) bytes to sign")
        }
        state = .collecting(context, buffered + part)
    }

    /// C_SignFinal.
    package mutating func final(capacity: Int?) throws(PKCS11Error) -> Action {
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let context):
            guard context.signature.allowsMultiPart else {
                state = .idle
                throw PKCS11Error(.functionNotSupported, "\(context.signature) signs in one part only (C_Sign)")
            }
            return finish(context, data: [], capacity: capacity)
        case .collecting(let context, let data): return finish(context, data: data, capacity: capacity)
        }
    }

    /// Ends the operation (session closed, logout).
    package mutating func cancel() { state = .idle }

    private mutating func finish(_ context: SignContext, data: [UInt8], capacity: Int?) -> Action {
        guard let capacity else { return .answer(.length(context.signatureLength)) }
        guard capacity >= context.signatureLength else { return .answer(.bufferTooSmall(context.signatureLength)) }
        state = .idle
        if let refusal = context.refusal(of: data) { return .refuse(context, refusal) }
        return .sign(context, data: data)
    }
}
