import PartialHash
import SmartCardCore

/// PSO HASH, PSO COMPUTE DIGITAL SIGNATURE, INTERNAL AUTHENTICATE and GET CHALLENGE (reference
/// `cps3-card.md` §5, §6, §16 point 7).
extension CardMachine {
    /// PSO `00 2A P1 P2`: 90 A0 is HASH, 9E 9A is COMPUTE DIGITAL SIGNATURE, 80 86 DECIPHER (the only
    /// one chained with CLA 10, see `DecipherOperation.swift`).
    mutating func performSecurityOperation(_ command: CommandAPDU) -> Reply {
        if command.cla == CPS3.classChaining || (command.p1, command.p2) == (0x80, 0x86) {
            return decipherChain(command)
        }
        volatile.chainedData = nil
        switch (command.p1, command.p2) {
        case (0x90, 0xA0): return hash(command)
        case (0x9E, 0x9A): return computeDigitalSignature(command)
        default: return .status(.incorrectP1P2)
        }
    }

    /// PSO HASH data (§6.1, §6.2): `90 L state‖bitCount 80 n tail` resumes the SHA from the host's
    /// intermediate state; `90 00 80 n tail` hashes the tail from scratch; `90 20|14 hash` gives a
    /// complete host hash. The digest waits in the security environment for PSO CDS.
    private mutating func hash(_ command: CommandAPDU) -> Reply {
        guard let algorithm = volatile.environment.hashAlgorithm else { return .status(.conditionsOfUseNotSatisfied) }
        guard let elements = TLV.parseList(command.data), let first = elements.first, first.tag == 0x90,
            elements.count <= 2
        else { return .status(.incorrectData) }
        let tail: [UInt8]? = elements.count == 2 ? (elements[1].tag == 0x80 ? elements[1].value : nil) : []
        guard let tail else { return .status(.incorrectData) }
        let digest: [UInt8]?
        if elements.count == 1 && first.value.count == algorithm.digestLength {
            digest = first.value
        } else {
            digest = Self.finishHash(algorithm, stateAndCount: first.value, tail: tail)
        }
        guard let digest else { return .status(.incorrectData) }
        volatile.environment.digest = (algorithm, digest)
        return .ok
    }

    /// Resumes SHA-1/SHA-256 from `state‖8-byte big-endian bit count` (or from scratch when empty) and
    /// finishes it over `tail`; nil for a malformed state or an unaligned bit count.
    private static func finishHash(
        _ algorithm: SecurityEnvironment.HashAlgorithm, stateAndCount: [UInt8], tail: [UInt8]
    ) -> [UInt8]? {
        let stateLength = algorithm.digestLength
        guard stateAndCount.isEmpty || stateAndCount.count == stateLength + 8 else { return nil }
        let state = Array(stateAndCount.prefix(stateLength))
        let bitCount = stateAndCount.dropFirst(stateLength).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        do {
            switch algorithm {
            case .sha1:
                var running = stateAndCount.isEmpty ? SHA1State() : try SHA1State(resumingFrom: state, bitCount: bitCount)
                running.update(tail)
                return running.finalize()
            case .sha256:
                var running =
                    stateAndCount.isEmpty ? SHA256State() : try SHA256State(resumingFrom: state, bitCount: bitCount)
                running.update(tail)
                return running.finalize()
            }
        } catch {
            return nil
        }
    }

    /// PSO CDS `00 2A 9E 9A 00` (case 2, 256 bytes) signs DigestInfo(alg, digest of PSO HASH) with key
    /// 0x81; `00 2A 9E 9A Lc hash 00` (Cryptolib "Sign_Hash", §6.2) signs a host hash. Needs the PIN
    /// (6982), a DST and a hash of the matching algorithm (6985). The hash is consumed.
    private mutating func computeDigitalSignature(_ command: CommandAPDU) -> Reply {
        guard volatile.pinVerified else { return .status(.securityStatusNotSatisfied) }
        guard let reference = volatile.environment.signatureAlgorithm,
            let algorithm = SecurityEnvironment.hashAlgorithm(forSignature: reference)
        else { return .status(.conditionsOfUseNotSatisfied) }
        let digest: [UInt8]
        if command.data.isEmpty {
            guard let stored = volatile.environment.digest, stored.algorithm == algorithm else {
                return .status(.conditionsOfUseNotSatisfied)
            }
            if let wrongLe = Self.checkExactLe(command, count: CPS3.rsaModulusBits / 8) { return wrongLe }
            digest = stored.value
        } else {
            guard command.data.count == algorithm.digestLength else { return .status(.wrongLength) }
            digest = command.data
        }
        volatile.environment.digest = nil
        guard let signature = keys.sign(padded: CardKeys.digestInfo(algorithm, digest), with: .signature) else {
            return .status(.noPreciseDiagnosis)
        }
        return Reply(data: signature)
    }

    /// INTERNAL AUTHENTICATE `00 88 00 00 Lc data 00` with key 0x82 after MSE SET AT (§6.3): PKCS#1 v1.5
    /// type-1 padding of the raw input, at most 102 bytes (40% of the modulus, else 6700).
    mutating func internalAuthenticate(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x00, command.p2 == 0x00 else { return .status(.incorrectP1P2) }
        guard volatile.pinVerified else { return .status(.securityStatusNotSatisfied) }
        guard volatile.environment.authenticationSet else { return .status(.conditionsOfUseNotSatisfied) }
        guard (1...CPS3.internalAuthenticateMaxInput).contains(command.data.count) else {
            return .status(.wrongLength)
        }
        guard let signature = keys.sign(padded: command.data, with: .authentication) else {
            return .status(.noPreciseDiagnosis)
        }
        return Reply(data: signature)
    }

    /// GET CHALLENGE `00 84 00 00 08`: 8 random bytes; another Le → 6C08.
    mutating func getChallenge(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x00, command.p2 == 0x00 else { return .status(.incorrectP1P2) }
        guard command.data.isEmpty else { return .status(.wrongLength) }
        if let wrongLe = Self.checkExactLe(command, count: CPS3.challengeLength) { return wrongLe }
        var generator = SystemRandomNumberGenerator()
        return Reply(data: (0..<CPS3.challengeLength).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
