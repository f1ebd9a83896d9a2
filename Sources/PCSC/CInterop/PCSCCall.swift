internal import CPCSCLite

/// The one checker every PC/SC call goes through (STYLE.md rule 2): success returns, anything else
/// becomes a `PCSCError` naming the function and the caller's file and line. A code pcsc-lite does
/// not document trips an assertion in debug builds, so a new code is noticed, not silently folded.
@inline(__always)
func pcscCall(
    _ function: String,
    file: String = #fileID,
    line: Int = #line,
    _ body: () -> LONG
) throws(PCSCError) {
    let rc = body()
    guard rc != SCARD_S_SUCCESS else { return }
    let code = PCSCError.Code(rawValue: UInt32(truncatingIfNeeded: rc))
    assert(code.isKnown, "\(function) returned a code pcsc-lite does not document: \(code)")
    throw PCSCError(code: code, function: function, file: file, line: line)
}

/// PC/SC constants as the DWORD the C functions take (they import as Int32 on Linux).
enum PCSCConstant {
    static let scopeUser = DWORD(SCARD_SCOPE_USER)
    static let shareShared = DWORD(SCARD_SHARE_SHARED)
    static let shareDirect = DWORD(SCARD_SHARE_DIRECT)
    /// CM_IOCTL_GET_FEATURE_REQUEST, SCARD_CTL_CODE(3400): the reader's PC/SC part 10 feature list.
    static let getFeatureRequest = cpcsc_ctl_code(3400)
    static let protocolT0 = DWORD(SCARD_PROTOCOL_T0)
    static let protocolT1 = DWORD(SCARD_PROTOCOL_T1)
    static let infinite = DWORD(INFINITE)
    static let stateUnaware = DWORD(SCARD_STATE_UNAWARE)
    static let stateChanged = DWORD(SCARD_STATE_CHANGED)
    static let stateUnknown = DWORD(SCARD_STATE_UNKNOWN)
    static let stateUnavailable = DWORD(SCARD_STATE_UNAVAILABLE)
    static let stateEmpty = DWORD(SCARD_STATE_EMPTY)
    static let statePresent = DWORD(SCARD_STATE_PRESENT)
    static let stateExclusive = DWORD(SCARD_STATE_EXCLUSIVE)
    static let stateMute = DWORD(SCARD_STATE_MUTE)
    static let maxATRSize = Int(MAX_ATR_SIZE)
    /// The pseudo-reader whose state changes when readers come and go.
    static let plugAndPlayReader = "\\\\?PnP?\\Notification"

    static func disposition(_ disposition: DispositionValue) -> DWORD {
        switch disposition {
        case .leave: DWORD(SCARD_LEAVE_CARD)
        case .reset: DWORD(SCARD_RESET_CARD)
        case .unpower: DWORD(SCARD_UNPOWER_CARD)
        }
    }

    static func ioRequest(forProtocol activeProtocol: DWORD) -> UnsafePointer<SCARD_IO_REQUEST> {
        activeProtocol == protocolT1 ? cpcsc_pci_t1() : cpcsc_pci_t0()
    }
}

/// What to do with the card when a handle or transaction ends; mirrors SmartCardCore's
/// `CardDisposition` without making CInterop depend on it.
enum DispositionValue {
    case leave, reset, unpower
}
