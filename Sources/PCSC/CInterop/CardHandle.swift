internal import CPCSCLite
import Foundation
import Synchronization

/// The one owner of an `SCARDHANDLE`, and of the context it was made on: connected in `init`,
/// disconnected (leaving the card as it is) in `deinit` unless `disconnect` already ran.
final class CardHandle: @unchecked Sendable {
    private let context: ContextHandle
    private let raw: SCARDHANDLE
    private(set) var activeProtocol: DWORD
    private var connected = true

    /// Wraps `SCardConnect` in shared mode, offering T=0 and T=1 (pcscd picks what the ATR allows).
    /// With `direct`, connects to the reader itself (SCARD_SHARE_DIRECT, no protocol): no card is needed,
    /// none is powered or reset, and only `control` makes sense on the handle.
    init(context: ContextHandle, reader: String, direct: Bool = false) throws(PCSCError) {
        var handle = SCARDHANDLE()
        var negotiated: DWORD = 0
        let share = direct ? PCSCConstant.shareDirect : PCSCConstant.shareShared
        let protocols = direct ? 0 : PCSCConstant.protocolT0 | PCSCConstant.protocolT1
        try pcscCall("SCardConnect") {
            SCardConnect(context.raw, reader, share, protocols, &handle, &negotiated)
        }
        self.context = context
        self.raw = handle
        self.activeProtocol = negotiated
    }

    deinit {
        if connected { TeardownLock.shared.withLock { _ in _ = SCardDisconnect(raw, PCSCConstant.disposition(.leave)) } }
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

    /// Wraps `SCardControl`: a command to the reader (its driver), not to the card. The answer buffer
    /// is a short APDU's (MAX_BUFFER_SIZE, 264 bytes): enough for a feature list (6 bytes per feature).
    func control(_ code: DWORD, _ input: [UInt8] = []) throws(PCSCError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(MAX_BUFFER_SIZE))
        var returned: DWORD = 0
        try pcscCall("SCardControl") {
            SCardControl(raw, code, input, DWORD(input.count), &output, DWORD(output.count), &returned)
        }
        return Array(output.prefix(Int(returned)))
    }

    /// `control` with a code a reader advertised (its feature list gives 32-bit codes).
    func control(advertised code: UInt32, _ input: [UInt8]) throws(PCSCError) -> [UInt8] {
        try control(DWORD(code), input)
    }

    /// Wraps `SCardDisconnect`. Later calls on this handle fail with SCARD_E_INVALID_HANDLE.
    func disconnect(_ disposition: DispositionValue) {
        guard connected else { return }
        connected = false
        TeardownLock.shared.withLock { _ in _ = SCardDisconnect(raw, PCSCConstant.disposition(disposition)) }
    }
}
