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
}

/// The card's logic without locking: persistent state, volatile state, files and keys. `CPS3Card`
/// owns one behind its lock. Each command family lives in its own extension file.
struct CardMachine {
    var persistent: CardState
    var volatile = VolatileState()
    let fileSystem: CardFileSystem
    let keys: CardKeys

    init(state: CardState) {
        persistent = state
        fileSystem = CardFileSystem(state: state)
        keys = CardKeys(state: state)
    }

    mutating func resetVolatileState() { volatile = VolatileState() }

    /// Answers one parsed command (after T=0 handling, see `T0Transport.swift`).
    mutating func dispatch(_ command: CommandAPDU) -> Reply {
        // CLA A0 is CPS2ter (§10), not emulated; other proprietary classes are not supported either (§8).
        guard command.cla == CPS3.classISO else { return .status(.classNotSupported) }
        switch command.ins {
        case CPS3.insSelect: return select(command)
        case CPS3.insReadBinary: return readBinary(command)
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
