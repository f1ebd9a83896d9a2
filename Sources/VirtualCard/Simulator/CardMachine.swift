import SmartCardCore

/// A response before T=0 framing: data field and status word.
struct Reply {
    var data: [UInt8]
    var statusWord: StatusWord

    init(data: [UInt8] = [], _ statusWord: StatusWord = .success) {
        self.data = data
        self.statusWord = statusWord
    }

    static func status(_ statusWord: StatusWord) -> Reply { Reply(statusWord) }
    static let ok = Reply()
}

/// What the card forgets at power-on and reset (reference `cps3-card.md` §5 "Security state", §16 point 6).
struct VolatileState {
    var currentDF: UInt16 = CPS3.masterFile
    var currentEF: UInt16?
    var pinVerified = false
    var pukVerified = false
    var environment = SecurityEnvironment()
    /// T=0: a case-4 response waiting for GET RESPONSE, with the status word to give after its last byte.
    var pendingResponse: Reply?
    /// The CPS2ter application's own current DF and EF (CLA A0, `CPS2terApplication.swift`).
    var cps2terDF: UInt16 = CPS3.masterFile
    var cps2terEF: UInt16?
    /// The last command went to CPS2ter and IAS has not been selected by AID since.
    var cps2terActive = false
    /// Data of the PSO commands chained so far (CLA 10), waiting for the last one (CLA 00).
    var chainedData: [UInt8]?
    /// CPS4: the ChipDoc applet's context on each logical channel where it is selected (`CPS4Channels.swift`).
    /// No entry: the channel is closed (channel 1) or holds another application (CPS2ter on channel 0).
    var chipDoc: [UInt8: ChipDocContext] = [:]
    /// CPS4: RESET RETRY COUNTER reset the PIN counter; the next CHANGE REFERENCE DATA (new value only) may
    /// set the PIN without it being verified (`CPS4PINCommands.swift`).
    var pinResetPending = false
}

/// The card's logic without locking: persistent state, volatile state, files and keys. `CPS3Card`
/// owns one behind its lock. A CPS4 state makes it a CPS4 (`processCPS4`, `CPS4Transport.swift`). Each command
/// family lives in its own extension file.
struct CardMachine {
    var persistent: CardState
    var volatile = VolatileState()
    var fileSystem: CardFileSystem
    let keys: CardKeys

    init(state: CardState) {
        persistent = state
        fileSystem = state.cardGeneration == .cps4 ? CardFileSystem(cps4: state) : CardFileSystem(state: state)
        keys = CardKeys(state: state)
    }

    mutating func resetVolatileState() { volatile = VolatileState() }

    /// Answers one parsed command (after T=0 handling, see `T0Transport.swift`).
    mutating func dispatch(_ command: CommandAPDU) -> Reply {
        if command.cla == CPS2ter.classByte {
            volatile.cps2terActive = true
            return dispatchCPS2ter(command)
        }
        if volatile.cps2terActive {
            // Only a SELECT by AID brings IAS back (Cryptolib's recovery, cps4-card.md §11.3).
            let selectsByName = command.ins == CPS3.insSelect && command.p1 == 0x04
            if persistent.refusesIASAfterCPS2ter == true && !selectsByName { return .status(.classNotSupported) }
            volatile.cps2terActive = false
        }
        // Other proprietary classes are not supported (§8).
        // CLA 10 chains PSO DECIPHER data only (cps4-card.md §11.3); any other command ends a chain.
        let chainable = command.ins == CPS3.insPerformSecurityOperation
        guard command.cla == CPS3.classISO || (command.cla == CPS3.classChaining && chainable) else {
            volatile.chainedData = nil
            return .status(.classNotSupported)
        }
        if !chainable { volatile.chainedData = nil }
        switch command.ins {
        case CPS3.insSelect: return select(command)
        case CPS3.insReadBinary: return readBinary(command)
        case CPS3.insUpdateBinary: return updateBinary(command)
        case CPS3.insGetData: return getData(command)
        case CPS3.insVerify: return verify(command)
        case CPS3.insChangeReferenceData: return changeReferenceData(command)
        case CPS3.insResetRetryCounter: return resetRetryCounter(command)
        case CPS3.insManageSecurityEnvironment: return manageSecurityEnvironment(command)
        case CPS3.insPerformSecurityOperation: return performSecurityOperation(command)
        case CPS3.insInternalAuthenticate: return internalAuthenticate(command)
        case CPS3.insGetChallenge: return getChallenge(command)
        default: return .status(.instructionNotSupported)
        }
    }

    /// For case-2 commands: the Le check of T=0 (ISO/IEC 7816-3 §12.2.2). Le must equal the `count`
    /// the card has, otherwise `6Cxx` gives the exact length (xx = 00 for 256). A missing Le counts as
    /// wrong.
    static func checkExactLe(_ command: CommandAPDU, count: Int) -> Reply? {
        guard command.expectedLength != count else { return nil }
        return .status(.wrongLe(exact: UInt8(truncatingIfNeeded: count)))
    }
}
