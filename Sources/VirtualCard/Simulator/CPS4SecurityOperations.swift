import SmartCardCore

/// MSE, PSO COMPUTE DIGITAL SIGNATURE and PSO DECIPHER of the ChipDoc applet (cps4-card.md §7.1, §7.3,
/// §12 point 6). The host hashes the whole message; the card pads:
/// - `01 22 81 B6 04 91 02 alg key`: alg 0A/28 PKCS#1 v1.5 (SHA-1/SHA-256), 15/2C PSS; key 90 is the
///   signature key 0x10 (PKCS#1 or PSS), A0 the authentication key 0x20 (PSS only: its PKCS#1 signatures
///   go through PSO DECIPHER on a host-padded block);
/// - `01 2A 9E 9A Lc hash [00]`: DigestInfo + type-1 padding, or EMSA-PSS (MGF1 same hash, sLen = hLen);
/// - `01 22 41 B8 03 83 01 20`, then `11 2A 80 86 FF <255 B>` + `01 2A 80 86 01 <1 B> [00]`: the raw
///   private operation of the authentication key on the 256 bytes, no padding indicator, no unpadding.
/// Both operations need the PIN verified (6982) and their MSE on the same channel (6985).
extension CardMachine {
    mutating func manageSecurityEnvironmentCPS4(_ command: CommandAPDU, _ context: inout ChipDocContext) -> Reply {
        switch (command.p1, command.p2) {
        case (0x81, 0xB6):
            let data = command.data
            guard data.count == 4, data[0] == 0x91, data[1] == 0x02,
                let algorithm = CPS4.SignatureAlgorithm(rawValue: data[2])
            else { return .status(.incorrectData) }
            let key: CardKeys.Key
            switch data[3] {
            case CPS4.signatureKeyReference | 0x80: key = .signature
            case CPS4.authenticationKeyReference | 0x80 where algorithm.isPSS: key = .authentication
            case CPS4.authenticationKeyReference | 0x80: return .status(.incorrectData)
            default: return .status(.referencedDataNotFound)
            }
            context.signature = (algorithm, key)
        case (0x41, 0xB8):
            guard command.data.count == 3, command.data[0] == 0x83, command.data[1] == 0x01 else {
                return .status(.incorrectData)
            }
            guard command.data[2] == CPS4.authenticationKeyReference else { return .status(.referencedDataNotFound) }
            context.decipherReady = true
        default:
            return .status(.incorrectP1P2)
        }
        return .ok
    }

    mutating func performSecurityOperationCPS4(_ command: CommandAPDU, _ context: inout ChipDocContext) -> Reply {
        switch (command.p1, command.p2) {
        case (0x9E, 0x9A):
            context.chainedData = nil
            return computeDigitalSignatureCPS4(command, context)
        case (0x80, 0x86):
            return decipherCPS4(command, &context)
        default:
            context.chainedData = nil
            return .status(.incorrectP1P2)
        }
    }

    private func computeDigitalSignatureCPS4(_ command: CommandAPDU, _ context: ChipDocContext) -> Reply {
        guard command.cla & CPS4.chainingBit == 0 else { return .status(StatusWord(rawValue: 0x6884)) }
        guard volatile.pinVerified else { return .status(.securityStatusNotSatisfied) }
        guard let (algorithm, key) = context.signature else { return .status(.conditionsOfUseNotSatisfied) }
        let digest = command.data
        guard digest.count == algorithm.hash.digestLength else { return .status(.wrongLength) }
        let signature: [UInt8]?
        if algorithm.isPSS {
            signature = PSSEncoding.encode(digest: digest, hash: algorithm.hash, modulusBits: CPS4.modulusLength * 8)
                .flatMap { keys.privateOperation($0, with: key) }
        } else {
            signature = keys.sign(padded: CardKeys.digestInfo(algorithm.hash, digest), with: key)
        }
        guard let signature else { return .status(.noPreciseDiagnosis) }
        return Reply(data: signature)
    }

    private mutating func decipherCPS4(_ command: CommandAPDU, _ context: inout ChipDocContext) -> Reply {
        let data = (context.chainedData ?? []) + command.data
        guard data.count <= CPS4.modulusLength else {
            context.chainedData = nil
            return .status(.wrongLength)
        }
        if command.cla & CPS4.chainingBit != 0 {
            context.chainedData = data
            return .ok
        }
        context.chainedData = nil
        guard volatile.pinVerified else { return .status(.securityStatusNotSatisfied) }
        guard context.decipherReady else { return .status(.conditionsOfUseNotSatisfied) }
        guard data.count == CPS4.modulusLength else { return .status(.wrongLength) }
        guard let result = keys.privateOperation(data, with: .authentication) else { return .status(.incorrectData) }
        return Reply(data: result)
    }
}
