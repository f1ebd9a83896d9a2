package import SmartCardCore

/// A shared-mode connection to the card in one reader, through pcsc-lite. Owns its handle and the
/// handle's own context, so a monitor waiting on another context never blocks its APDUs.
package final class PCSCConnection: CardConnection, @unchecked Sendable {
    package let readerName: String
    package private(set) var atr: ATR
    private let handle: CardHandle
    /// The reader's FEATURE_VERIFY_PIN_DIRECT control code, when it has a PIN pad (asked once, at connection).
    private let verifyPINDirect: UInt32?

    init(readerName: String) throws(CardError) {
        let status: [UInt8]
        do throws(PCSCError) {
            handle = try CardHandle(context: try ContextHandle(), reader: readerName)
            status = try Self.currentATR(handle)
        } catch {
            throw error.cardError
        }
        atr = try Self.parse(status)
        // A reader that does not answer the feature request has no PIN pad cpsd can use.
        let features = (try? handle.control(PCSCConstant.getFeatureRequest)).flatMap { try? ReaderFeatures(tlv: $0) }
        verifyPINDirect = features?.controlCodes[ReaderFeatures.Feature.verifyPINDirect.rawValue]
        self.readerName = readerName
    }

    /// SCardStatus. Another process's reset between our SCardConnect or SCardReconnect and this call makes it
    /// SCARD_W_RESET_CARD, which only a reconnect clears: a few are taken in stride, as every command is
    /// (`CPS3Driver.perform`), rather than failing the connection to a card that is there.
    private static func currentATR(_ handle: CardHandle) throws(PCSCError) -> [UInt8] {
        var resets = 0
        while true {
            do {
                return try handle.status()
            } catch where error.code == .resetCard && resets < CardError.restartsAfterReset {
                resets += 1
                try handle.reconnect(.leave)
            }
        }
    }

    private static func parse(_ bytes: [UInt8]) throws(CardError) -> ATR {
        do {
            return try ATR(bytes: bytes)
        } catch {
            throw CardError(.cardUnresponsive, "the card's \(error)")
        }
    }

    /// An SCARD_E_PROTO_MISMATCH here is another process's reset, not a wrong protocol: this handle (re)connected
    /// while the reset was under way, pcscd undid the protocol it had negotiated, and refused the command before
    /// the card saw it. It is reported as the reset it is, so the operation starts over after a reconnect.
    package func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8] {
        do {
            return try handle.transmit(command)
        } catch where error.code == .protocolMismatch {
            throw CardError(.cardReset, "\(error): the card was reset by another process as this connection was made")
        } catch {
            throw error.cardError
        }
    }

    package func beginTransaction() throws(CardError) {
        do { try handle.beginTransaction() } catch { throw error.cardError }
    }

    package func endTransaction(_ disposition: CardDisposition) throws(CardError) {
        do { try handle.endTransaction(disposition.value) } catch { throw error.cardError }
    }

    package func reconnect(_ initialization: CardDisposition) throws(CardError) {
        let status: [UInt8]
        do throws(PCSCError) {
            try handle.reconnect(initialization.value)
            status = try Self.currentATR(handle)
        } catch {
            throw error.cardError
        }
        atr = try Self.parse(status)
    }

    package var hasPINPad: Bool { verifyPINDirect != nil }

    /// FEATURE_VERIFY_PIN_DIRECT: the reader collects the digits and sends the VERIFY; SCardControl returns
    /// when the person has finished (or the reader's timeout passed) with the card's or the reader's status.
    package func verifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> [UInt8] {
        guard let code = verifyPINDirect else { throw CardError(.internalError, "\(readerName) has no PIN pad") }
        do {
            return try handle.control(advertised: code, PINVerifyStructure.bytes(for: verify))
        } catch {
            throw error.cardError
        }
    }

    package func disconnect(_ disposition: CardDisposition) {
        handle.disconnect(disposition.value)
    }
}

extension CardDisposition {
    var value: DispositionValue {
        switch self {
        case .leave: .leave
        case .reset: .reset
        case .unpower: .unpower
        }
    }
}
