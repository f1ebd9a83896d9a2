/// One transaction's view of a card: the only way card operations send APDUs (STYLE.md rule 4).
///
/// It handles the T=0 transport rules once, for everyone (ISO/IEC 7816-3 §12.2 and 7816-4 §5.3.4):
/// `61xx` is followed by GET RESPONSE for `xx` bytes (repeated while the card has more), and `6Cxx`
/// re-sends the same command with Le = `xx`. It also counts exchanges, so tests can pin the number of
/// APDUs an operation costs.
package struct CardSession: ~Copyable {
    private let connection: any CardConnection
    /// Raw exchanges sent so far, GET RESPONSE and 6Cxx re-sends included.
    package private(set) var exchangeCount = 0
    package private(set) var bytesSent = 0
    package private(set) var bytesReceived = 0
    /// The application a driver selected in this transaction, so it is not selected twice. Each
    /// transaction starts not knowing (another process, or a reset, may have changed it in between);
    /// a driver that selects anything else sets it back to nil.
    package var currentApplication: [UInt8]?

    /// A card that keeps announcing `61xx` (or `6Cxx`) would hold the reader forever: past these bounds
    /// the command fails with `.malformedResponse` instead. A CPS answer is at most a few KiB (the
    /// largest is a certificate read in 0xE7-byte chunks), so 64 GET RESPONSEs or 64 KiB is far beyond
    /// any honest answer.
    package static let maxGetResponses = 64
    package static let maxResponseBytes = 64 * 1024

    package init(connection: any CardConnection) { self.connection = connection }

    package var readerName: String { connection.readerName }
    package var atr: ATR { connection.atr }

    /// Sends `command` and returns the complete response after T=0 chaining.
    package mutating func transmit(_ command: CommandAPDU) throws(CardError) -> ResponseAPDU {
        var response = try exchange(command.bytes)
        if let exact = response.statusWord.exactLength {
            var resend = command
            resend.expectedLength = exact
            response = try exchange(resend.bytes)
        }
        var data = response.data
        var getResponses = 0
        while let available = response.statusWord.bytesAvailableCount {
            getResponses += 1
            guard getResponses <= Self.maxGetResponses, data.count <= Self.maxResponseBytes else {
                throw CardError(
                    .malformedResponse,
                    "the card announced more data after \(getResponses - 1) GET RESPONSEs (\(data.count) bytes)")
            }
            response = try exchange(CommandAPDU.getResponse(cla: command.cla, length: available).bytes)
            data += response.data
        }
        return ResponseAPDU(data: data, statusWord: response.statusWord)
    }

    /// Sends bytes as they are, with no T=0 handling: for `cpsctl apdu` and protocol tests.
    package mutating func transmitRaw(_ bytes: [UInt8]) throws(CardError) -> ResponseAPDU {
        try exchange(bytes)
    }

    /// Sends a case-3 command whose data carries a PIN or PUK. `fill` appends the data to the buffer;
    /// the buffer is zeroed as soon as the card answered, and its capacity is reserved up front so no
    /// reallocation leaves a copy behind.
    package mutating func transmitSensitive(
        cla: UInt8 = 0x00, ins: UInt8, p1: UInt8, p2: UInt8,
        fill: (inout [UInt8]) -> Void
    ) throws(CardError) -> ResponseAPDU {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(5 + 255)
        bytes += [cla, ins, p1, p2, 0]
        fill(&bytes)
        defer { SecretBytes.wipe(&bytes) }
        guard bytes.count > 5, bytes.count <= 5 + 255 else {
            throw CardError(.internalError, "secret data of \(bytes.count - 5) bytes")
        }
        bytes[4] = UInt8(bytes.count - 5)
        return try exchange(bytes)
    }

    /// For `verifyOnPINPad` (PINPad.swift): the connection is this session's alone.
    mutating func connectionVerifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> [UInt8] {
        exchangeCount += 1
        bytesSent += verify.header.count
        let raw = try connection.verifyOnPINPad(verify)
        bytesReceived += raw.count
        return raw
    }

    private mutating func exchange(_ bytes: [UInt8]) throws(CardError) -> ResponseAPDU {
        exchangeCount += 1
        bytesSent += bytes.count
        let raw = try connection.transmit(bytes)
        bytesReceived += raw.count
        do {
            return try ResponseAPDU(bytes: raw)
        } catch {
            throw CardError(.transmitFailed, "\(error.reason) (the card may have been removed)")
        }
    }
}

extension CommandAPDU {
    /// GET RESPONSE `00 C0 00 00 xx` (ISO/IEC 7816-4 §7.6.1): fetches the bytes a T=0 card announced
    /// with `61xx`.
    package static func getResponse(cla: UInt8 = 0x00, length: Int) -> CommandAPDU {
        CommandAPDU(cla: cla & 0x03, ins: 0xC0, p1: 0x00, p2: 0x00, expectedLength: length)
    }
}
