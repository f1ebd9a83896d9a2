import SmartCardCore

/// What the ChipDoc applet remembers on one logical channel: its current files and security environment.
/// Lost when the channel's application changes, at reset, and on the lost-context fault (`CardFaultInjector`).
struct ChipDocContext {
    var currentDF: UInt16 = CPS3.masterFile
    var currentEF: UInt16?
    /// MSE SET DST (`22 81 B6 … 91 02 alg key`).
    var signature: (algorithm: CPS4.SignatureAlgorithm, key: CardKeys.Key)?
    /// MSE SET CT (`22 41 B8 … 83 01 20`) was given.
    var decipherReady = false
    /// PSO DECIPHER data chained so far (CLA 11).
    var chainedData: [UInt8]?
}

/// The CPS4's applications and logical channels (cps4-card.md §3, §12 point 2):
/// - channel 0 holds CPS2ter at reset (CLA A0 commands reach it whatever is selected);
/// - channel 1 opens implicitly when an application is selected on it by name, no MANAGE CHANNEL;
/// - a command other than SELECT on a channel without the ChipDoc applet answers `6881` (channel 1) or `6E00`
///   (channel 0, where CPS2ter does not know ISO commands); channels 2 and 3 do not exist (`6881`);
/// - the PIN state is the card's, shared by the channels; each channel has its own `ChipDocContext`.
extension CardMachine {
    mutating func dispatchCPS4(_ command: CommandAPDU) -> Reply {
        if command.cla == CPS2ter.classByte { return dispatchCPS2ter(command) }
        // Interindustry classes only, no secure messaging (b3-b4), channels 0-3 (b1-b2).
        guard command.cla & 0xEC == 0 else { return .status(.classNotSupported) }
        let channel = command.cla & 0x03
        guard channel <= CPS4.chipDocChannel else { return .status(CPS4.logicalChannelNotSupported) }
        if command.ins == CPS3.insSelect && command.p1 == 0x04 {
            return selectApplication(command, channel: channel)
        }
        guard var context = volatile.chipDoc[channel] else {
            return .status(channel == 0 ? .classNotSupported : CPS4.logicalChannelNotSupported)
        }
        let reply = dispatchChipDoc(command, &context)
        volatile.chipDoc[channel] = context
        return reply
    }

    private mutating func dispatchChipDoc(_ command: CommandAPDU, _ context: inout ChipDocContext) -> Reply {
        let chained = command.cla & CPS4.chainingBit != 0
        let isPSO = command.ins == CPS3.insPerformSecurityOperation
        // Only PSO DECIPHER is chained (§7.3); any other command ends a chain.
        guard !chained || isPSO else {
            context.chainedData = nil
            return .status(StatusWord(rawValue: 0x6884))  // command chaining not supported
        }
        if !isPSO { context.chainedData = nil }
        switch command.ins {
        case CPS3.insSelect: return selectFileCPS4(command, &context)
        case CPS3.insReadBinary: return readBinaryCPS4(command, context)
        case CPS3.insUpdateBinary: return updateBinaryCPS4(command, context)
        case CPS3.insVerify: return verifyCPS4(command)
        case CPS3.insChangeReferenceData: return changeReferenceDataCPS4(command)
        case CPS3.insResetRetryCounter: return resetRetryCounterCPS4(command)
        case CPS3.insManageSecurityEnvironment: return manageSecurityEnvironmentCPS4(command, &context)
        case CPS3.insPerformSecurityOperation: return performSecurityOperationCPS4(command, &context)
        case CPS3.insGetChallenge: return getChallenge(command)
        default: return .status(.instructionNotSupported)
        }
    }

    /// SELECT by name (`<CLA> A4 04 P2 Lc AID`): the ChipDoc applet (on either channel; it opens channel 1),
    /// the ISD (channel 1), CPS2ter (channel 0), or the PKCS#15 application DF inside ChipDoc. P2 00 answers
    /// the FCI, 04 and 0C nothing: Cryptolib sends 04 and 0C as case-3 commands (§3).
    private mutating func selectApplication(_ command: CommandAPDU, channel: UInt8) -> Reply {
        guard [0x00, 0x04, 0x0C].contains(command.p2) else { return .status(.incorrectP1P2) }
        let aid = command.data
        switch aid {
        case CPS4.chipDocAID:
            volatile.chipDoc[channel] = ChipDocContext()
        case CPS4.issuerSecurityDomainAID where channel == CPS4.chipDocChannel,
            CPS4.cps2terAID where channel == 0:
            volatile.chipDoc[channel] = nil
            return .ok
        default:
            // The PKCS#15 application DF, by its AID, inside a selected ChipDoc.
            guard var context = volatile.chipDoc[channel], let file = fileSystem.dedicatedFile(withAID: aid) else {
                return .status(.fileNotFound)
            }
            context.currentDF = file.fid
            context.currentEF = nil
            volatile.chipDoc[channel] = context
            return command.p2 == 0x00 ? Reply(data: Self.fileControlInformation(of: file)) : .ok
        }
        guard command.p2 == 0x00, let root = fileSystem.files[CPS3.masterFile] else { return .ok }
        return Reply(data: Self.fileControlInformation(of: root))
    }

    /// The lost-context fault (#1722, cps4-card.md §3): the ChipDoc applet of `channel` forgets its context
    /// as if another stack had reset it; only a new SELECT of the ChipDoc AID brings it back.
    mutating func loseChipDocContext(channel: UInt8) {
        volatile.chipDoc[channel] = nil
        volatile.pendingResponse = nil
    }
}
