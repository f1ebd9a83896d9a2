internal import CPCSCLite
import Foundation
import Synchronization

/// The one owner of an `SCARDCONTEXT`: established in `init`, released in `deinit`.
///
/// pcsc-lite serializes calls on one context (SCardGetStatusChange holds its mutex for the whole
/// wait), so each blocking user (the monitor, each connection) gets its own context. `cancel()` is the
/// exception: it is meant to be called from another thread to wake a waiting SCardGetStatusChange.
final class ContextHandle: @unchecked Sendable {
    let raw: SCARDCONTEXT

    /// Wraps `SCardEstablishContext` (user scope).
    init() throws(PCSCError) {
        var context = SCARDCONTEXT()
        try pcscCall("SCardEstablishContext") { SCardEstablishContext(PCSCConstant.scopeUser, nil, nil, &context) }
        raw = context
    }

    deinit {
        // A destructor cannot report failure; after a pcscd restart this returns NO_SERVICE, harmless.
        TeardownLock.shared.withLock { _ in _ = SCardReleaseContext(raw) }
    }

    /// Wraps `SCardCancel`: makes a pending `SCardGetStatusChange` return SCARD_E_CANCELLED.
    func cancel() {
        _ = SCardCancel(raw)
    }

    /// Wraps `SCardListReaders` (two-call pattern). No readers is an empty list, not an error.
    func listReaders() throws(PCSCError) -> [String] {
        for _ in 0..<3 {  // the list can grow between the size query and the fill
            var size: DWORD = 0
            do {
                try pcscCall("SCardListReaders") { SCardListReaders(raw, nil, nil, &size) }
            } catch where error.code == .noReadersAvailable {
                return []
            }
            var buffer = [CChar](repeating: 0, count: Int(size))
            do {
                try pcscCall("SCardListReaders") { SCardListReaders(raw, nil, &buffer, &size) }
                return parseMultiString(Array(buffer.prefix(Int(size))))
            } catch where error.code == .insufficientBuffer {
                continue
            } catch where error.code == .noReadersAvailable {
                return []
            }
        }
        throw PCSCError(code: .insufficientBuffer, function: "SCardListReaders")
    }

    /// Wraps `SCardGetStatusChange`: blocks until one of `states` differs from its `currentState`, or
    /// `timeout` milliseconds pass (nil = forever). Updates each record's `eventState` and `atr`.
    func getStatusChange(_ states: inout [ReaderStateRecord], timeoutMilliseconds: UInt32?) throws(PCSCError) {
        let names = states.map { strdup($0.name) }
        defer { names.forEach { free($0) } }
        var cStates = [SCARD_READERSTATE](repeating: SCARD_READERSTATE(), count: states.count)
        for index in states.indices {
            cStates[index].szReader = UnsafePointer(names[index])
            cStates[index].dwCurrentState = DWORD(states[index].currentState)
        }
        let timeout = timeoutMilliseconds.map(DWORD.init) ?? PCSCConstant.infinite
        try pcscCall("SCardGetStatusChange") {
            SCardGetStatusChange(raw, timeout, &cStates, DWORD(cStates.count))
        }
        for index in states.indices {
            states[index].eventState = UInt(cStates[index].dwEventState)
            let length = min(Int(cStates[index].cbAtr), PCSCConstant.maxATRSize)
            states[index].atr = withUnsafeBytes(of: cStates[index].rgbAtr) { Array($0.prefix(length)) }
        }
    }
}

/// One reader's entry for `SCardGetStatusChange`, in Swift values.
struct ReaderStateRecord {
    var name: String
    var currentState: UInt
    var eventState: UInt = 0
    var atr: [UInt8] = []

    init(name: String, currentState: UInt = UInt(PCSCConstant.stateUnaware)) {
        self.name = name
        self.currentState = currentState
    }

    var isChanged: Bool { eventState & UInt(PCSCConstant.stateChanged) != 0 }
    var isPresent: Bool { eventState & UInt(PCSCConstant.statePresent) != 0 }
    var isGone: Bool {
        eventState & UInt(PCSCConstant.stateUnknown | PCSCConstant.stateUnavailable) != 0
    }
    var isExclusive: Bool { eventState & UInt(PCSCConstant.stateExclusive) != 0 }
    var isMute: Bool { eventState & UInt(PCSCConstant.stateMute) != 0 }
    /// pcsc-lite keeps a per-reader event counter in the upper 16 bits of the event state.
    var eventCounter: UInt { (eventState >> 16) & 0xFFFF }

    /// Accept the reported state as known, so the next wait blocks until something new happens.
    mutating func acknowledge() {
        currentState = eventState & ~UInt(PCSCConstant.stateChanged)
    }
}
