internal import CPCSCLite

/// The one owner of an `SCARDHANDLE`, and of the context it was made on: connected in `init`,
/// disconnected (leaving the card as it is) in `deinit` unless `disconnect` already ran.
final class CardHandle: @unchecked Sendable {
    private let context: ContextHandle
    private let raw: SCARDHANDLE
    private(set) var activeProtocol: DWORD
    private var connected = true

    /// Wraps `SCardConnect` in shared mode, offering T=0 and T=1 (pcscd picks what the ATR allows).
    init(context: ContextHandle, reader: String) throws(PCSCError) {
        var handle = SCARDHANDLE()
        var negotiated: DWORD = 0
        try pcscCall("SCardConnect") {
            SCardConnect(
                context.raw, reader, PCSCConstant.shareShared, PCSCConstant.protocolT0 | PCSCConstant.protocolT1,
                &handle, &negotiated)
        }
        self.context = context
        self.raw = handle
        self.activeProtocol = negotiated
    }

    deinit {
        if connected { _ = SCardDisconnect(raw, PCSCConstant.disposition(.leave)) }
    }

    /// Wraps `SCardTransmit`. The receive buffer holds the largest extended response plus SW.
    func transmit(_ command: [UInt8]) throws(PCSCError) -> [UInt8] {
        var response = [UInt8](repeating: 0, count: 65538)
        var length = DWORD(response.count)
        let pci = PCSCConstant.ioRequest(forProtocol: activeProtocol)
        try pcscCall("SCardTransmit") {
            SCardTransmit(raw, pci, command, DWORD(command.count), nil, &response, &length)
        }
        return Array(response.prefix(Int(length)))
    }

    /// Wraps `SCardBeginTransaction`: no other process exchanges APDUs with the card until the end.
    func beginTransaction() throws(PCSCError) {
        try pcscCall("SCardBeginTransaction") { SCardBeginTransaction(raw) }
    }

    /// Wraps `SCardEndTransaction`.
    func endTransaction(_ disposition: DispositionValue) throws(PCSCError) {
        try pcscCall("SCardEndTransaction") { SCardEndTransaction(raw, PCSCConstant.disposition(disposition)) }
    }

    /// Wraps `SCardReconnect` in shared mode: after another process reset the card, or to reset it.
    func reconnect(_ initialization: DispositionValue) throws(PCSCError) {
        var negotiated: DWORD = 0
        try pcscCall("SCardReconnect") {
            SCardReconnect(
                raw, PCSCConstant.shareShared, PCSCConstant.protocolT0 | PCSCConstant.protocolT1,
                PCSCConstant.disposition(initialization), &negotiated)
        }
        activeProtocol = negotiated
    }

    /// Wraps `SCardStatus`: the card's current ATR (and a check that the handle is still good).
    func status() throws(PCSCError) -> [UInt8] {
        var atr = [UInt8](repeating: 0, count: PCSCConstant.maxATRSize)
        var atrLength = DWORD(atr.count)
        var state: DWORD = 0
        var activeProtocol: DWORD = 0
        var nameLength: DWORD = 0
        try pcscCall("SCardStatus") {
            SCardStatus(raw, nil, &nameLength, &state, &activeProtocol, &atr, &atrLength)
        }
        return Array(atr.prefix(Int(atrLength)))
    }

    /// Wraps `SCardDisconnect`. Later calls on this handle fail with SCARD_E_INVALID_HANDLE.
    func disconnect(_ disposition: DispositionValue) {
        guard connected else { return }
        connected = false
        _ = SCardDisconnect(raw, PCSCConstant.disposition(disposition))
    }
}
