package import SmartCardCore

/// Identifiers of the CPS4 (NXP ChipDoc) card (cps4-card.md §1–5). The PKCS#15 file map below the
/// application is not public: the driver follows EF.DIR → ODF → object directories, as Cryptolib does.
package enum CPS4 {
    /// The ChipDoc applet, on logical channel 1 (§3).
    package static let chipDocAID: [UInt8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00]
    /// The CPS2ter application (legacy data), on channel 0.
    package static let cps2terAID: [UInt8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x02]
    /// The GlobalPlatform issuer security domain ("IDS" in Cryptolib), on channel 1.
    package static let issuerSecurityDomainAID: [UInt8] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00]
    /// The PKCS#15 application looked up in EF.DIR (same AID as CPS3).
    package static let pkcs15AID = CPS3.iasApplicationAID

    /// Every ChipDoc command goes on channel 1; `| 0x10` marks a non-final chained command.
    package static let channelCLA: UInt8 = 0x01
    package static let efSerial: [UInt8] = [0xD0, 0x03]
    package static let efDIR: [UInt8] = [0x2F, 0x00]

    /// The signature key (CPS_PRIV_SIG) and the authentication key (CPS_PRIV_AUT) (§5).
    package static let signatureKeyReference: UInt8 = 0x10
    package static let authenticationKeyReference: UInt8 = 0x20
    /// READ BINARY reads up to 256 bytes (Le 00).
    package static let maxReadLength = 256
    /// Cryptolib forces the maximum to 3 for both codes (cps4-card.md §6.2: "63Cx ⇒ x left, max forced
    /// to 3"); a card answering more tries left raises it (`counters(from:)` takes the larger). With 10,
    /// a fresh card's PUK at 3 tries showed CKF_SO_PIN_COUNT_LOW where Cryptolib shows nothing
    /// (DifferentialCryptolibTests).
    package static let pinMaxTries = 3
    package static let pukMaxTries = 3

    /// The PIN and PUK references Cryptolib's test cards use when the AODF gives none.
    package static let defaultPINReference: UInt8 = 0x01
    package static let defaultPUKReference: UInt8 = 0x02
}

/// ChipDoc algorithm identifiers of the MSE `91` tag (cps4-card.md §7.1).
package enum ChipDocAlgorithm: UInt8, Sendable {
    case sha1PKCS1 = 0x0A
    case sha256PKCS1 = 0x28
    case sha1PSS = 0x15
    case sha256PSS = 0x2C

    package init(hash: SignatureHash, pss: Bool) {
        switch (hash, pss) {
        case (.sha1, false): self = .sha1PKCS1
        case (.sha256, false): self = .sha256PKCS1
        case (.sha1, true): self = .sha1PSS
        case (.sha256, true): self = .sha256PSS
        }
    }
}

extension CommandAPDU {
    /// SELECT by AID without answer data, `CLA A4 04 0C Lc AID`; on CPS4 the first one on channel 1 opens it.
    package static func selectApplication(_ aid: [UInt8], cla: UInt8) -> CommandAPDU {
        CommandAPDU(cla: cla, ins: 0xA4, p1: 0x04, p2: 0x0C, data: aid)
    }

    /// ISO SELECT by path from the MF (3F00 left out), asking for the FCI: `01 A4 08 00 Lc path 00`.
    package static func selectPathWithFCI(_ pathAfterMF: [UInt8], cla: UInt8) -> CommandAPDU {
        CommandAPDU(cla: cla, ins: 0xA4, p1: 0x08, p2: 0x00, data: pathAfterMF, expectedLength: 256)
    }

    /// READ BINARY on a channel, `CLA B0 offHi offLo Le` with Le up to 256.
    package static func readBinary(offset: Int, length: Int, cla: UInt8) -> CommandAPDU {
        precondition(offset >= 0 && offset <= 0x7FFF && (1...256).contains(length))
        return CommandAPDU(cla: cla, ins: 0xB0, p1: UInt8(offset >> 8), p2: UInt8(offset & 0xFF), expectedLength: length)
    }

    /// VERIFY without data, `CLA 20 00 ref`: the tries left (63Cx), blocked (6983) or verified (9000).
    package static func verifyStatus(reference: UInt8, cla: UInt8) -> CommandAPDU {
        CommandAPDU(cla: cla, ins: 0x20, p1: 0x00, p2: reference)
    }

    /// RESET RETRY COUNTER without a new value, `01 2C 03 ref|80` (the PUK was verified before).
    package static func resetRetryCounter(reference: UInt8, cla: UInt8) -> CommandAPDU {
        CommandAPDU(cla: cla, ins: 0x2C, p1: 0x03, p2: reference | 0x80)
    }

    /// MSE SET digital signature template, `01 22 81 B6 04 91 02 alg key|80`.
    package static func mseSetChipDocSignature(_ algorithm: ChipDocAlgorithm, key: UInt8) -> CommandAPDU {
        CommandAPDU(
            cla: CPS4.channelCLA, ins: 0x22, p1: 0x81, p2: 0xB6, data: [0x91, 0x02, algorithm.rawValue, key | 0x80])
    }

    /// MSE SET confidentiality template for raw RSA with the authentication key, `01 22 41 B8 03 83 01 20`.
    package static func mseSetChipDocDecipher(key: UInt8) -> CommandAPDU {
        CommandAPDU(cla: CPS4.channelCLA, ins: 0x22, p1: 0x41, p2: 0xB8, data: [0x83, 0x01, key])
    }

    /// PSO COMPUTE DIGITAL SIGNATURE over a hash the host computed, `01 2A 9E 9A Lc hash 00`.
    package static func psoComputeDigitalSignature(hash: [UInt8], cla: UInt8) -> CommandAPDU {
        CommandAPDU(cla: cla, ins: 0x2A, p1: 0x9E, p2: 0x9A, data: hash, expectedLength: 256)
    }
}
