import PKCS11Constants
package import SmartCardCore

/// CK_RSA_PKCS_PSS_PARAMS for C_VerifyInit: Cryptolib checks the size and that hashAlg matches, and then
/// verifies with the given MGF and sLen (cryptolib-pkcs11.md §7.2, §8.7), unlike signing, where the card makes
/// one PSS form only (`PSSParameters`).
package struct PSSVerifyParameters: Sendable, Hashable {
    package var hash: SignatureHash
    package var mgfHash: SignatureHash
    package var saltLength: Int

    package init(for mechanism: SignatureMechanism, parameter: [UInt8]?) throws(PKCS11Error) {
        let width = MemoryLayout<UInt>.size
        guard let parameter, parameter.count == 3 * width else {
            throw PKCS11Error(.mechanismParamInvalid, "PSS needs a CK_RSA_PKCS_PSS_PARAMS")
        }
        let fields = (0..<3).compactMap { AttributeValue.readULong(Array(parameter[$0 * width..<($0 + 1) * width])) }
        let hashAlg = CKM(rawValue: fields[0])
        guard let hash = SignatureHash.allCases.first(where: { $0.ckm == hashAlg }),
            mechanism.messageHash == nil || mechanism.messageHash == hash
        else { throw PKCS11Error(.mechanismParamInvalid, "hashAlg is not the mechanism's SHA-1 or SHA-256") }
        guard let mgfHash = SignatureHash.allCases.first(where: { $0.mgf1 == fields[1] }) else {
            throw PKCS11Error(.mechanismParamInvalid, "MGF1 with SHA-1 or SHA-256 only")
        }
        guard fields[2] <= 4096 else { throw PKCS11Error(.mechanismParamInvalid, "sLen beyond any 2048-bit key") }
        self.hash = hash
        self.mgfHash = mgfHash
        self.saltLength = Int(fields[2])
    }
}

/// What a verification is made with: fixed at C_VerifyInit.
package struct VerifyContext: Sendable, Hashable {
    package var keyHandle: UInt
    package var signature: SignatureMechanism
    package var pss: PSSVerifyParameters?
    package var key: RSAPublicOperation

    package init(keyHandle: UInt, signature: SignatureMechanism, pss: PSSVerifyParameters?, key: RSAPublicOperation) {
        self.keyHandle = keyHandle
        self.signature = signature
        self.pss = pss
        self.key = key
    }

    /// Why data of this length cannot have been signed with the mechanism (ANS 712: CKR_DATA_LEN_RANGE).
    func refusal(ofData count: Int) -> PKCS11Error? {
        let k = key.length
        switch signature {
        case .rsaPKCS where count > k - 11: return PKCS11Error(.dataLenRange, "CKM_RSA_PKCS signs at most k-11 bytes")
        case .rsaX509 where count > k: return PKCS11Error(.dataLenRange, "CKM_RSA_X_509 signs at most k bytes")
        case .rsaPKCSPSS where count != pss?.hash.digestLength:
            return PKCS11Error(.dataLenRange, "CKM_RSA_PKCS_PSS verifies a digest of the parameters' hash")
        default: return nil
        }
    }
}

/// C_VerifyInit / C_Verify / C_VerifyUpdate / C_VerifyFinal on one session (PKCS#11 2.40 §5.13), in software.
/// Every answer of C_Verify/C_VerifyFinal ends the operation (ANS 715, 730: a second call is
/// CKR_OPERATION_NOT_INITIALIZED), except CKR_ARGUMENTS_BAD, which the C layer answers before (ANS 711, 727).
package struct VerifyOperation: Sendable {
    private enum State: Sendable {
        case idle
        case initialized(VerifyContext)
        case collecting(VerifyContext, [UInt8])
    }

    private var state = State.idle

    package init() {}

    package var isActive: Bool { if case .idle = state { false } else { true } }

    package mutating func begin(_ context: VerifyContext) throws(PKCS11Error) {
        guard case .idle = state else { throw PKCS11Error(.operationActive) }
        state = .initialized(context)
    }

    /// C_Verify: throws the verdict (CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE, CKR_DATA_LEN_RANGE).
    package mutating func single(data: [UInt8], signature: [UInt8]) throws(PKCS11Error) {
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .collecting:
            state = .idle
            throw PKCS11Error(.operationActive, "C_Verify cannot finish a multi-part verification")
        case .initialized(let context):
            state = .idle
            try SoftwareRSA.verify(context, data: data, signature: signature)
        }
    }

    /// C_VerifyUpdate. Data is buffered (CPS messages are small), as for C_SignUpdate.
    package mutating func update(part: [UInt8]) throws(PKCS11Error) {
        let (context, buffered): (VerifyContext, [UInt8])
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let current): (context, buffered) = (current, [])
        case .collecting(let current, let data): (context, buffered) = (current, data)
        }
        guard context.signature.allowsMultiPart else {
            state = .idle
            throw PKCS11Error(.functionNotSupported, "\(context.signature) verifies in one part only (C_Verify)")
        }
        guard buffered.count + part.count <= SignOperation.maxBufferedData else {
            state = .idle
            throw PKCS11Error(.dataLenRange, "more than \(SignOperation.maxBufferedData) bytes to verify")
        }
        state = .collecting(context, buffered + part)
    }

    /// C_VerifyFinal.
    package mutating func final(signature: [UInt8]) throws(PKCS11Error) {
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let context):
            state = .idle
            guard context.signature.allowsMultiPart else {
                throw PKCS11Error(.functionNotSupported, "\(context.signature) verifies in one part only (C_Verify)")
            }
            try SoftwareRSA.verify(context, data: [], signature: signature)
        case .collecting(let context, let data):
            state = .idle
            try SoftwareRSA.verify(context, data: data, signature: signature)
        }
    }

    /// Ends the operation (session closed, logout).
    package mutating func cancel() { state = .idle }
}
