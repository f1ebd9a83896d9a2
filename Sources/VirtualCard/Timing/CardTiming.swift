import SmartCardCore

/// How long a real card would take to answer one exchange: the bytes' transfer time at the rate the ATR sets,
/// plus the card's own processing time. `cps-vcard run/stack --timing real` sleeps that long (`TimedCard`);
/// the in-process `VirtualBackend` of the unit tests never does.
///
/// Calibration (the one place these figures live; change them here):
/// - Reader clock 3.5712 MHz, the usual PC/SC reader clock (ISO/IEC 7816-3 fMax for Fi=372 is 5 MHz; 3.5712 MHz
///   gives the round 9600 bit/s at Fi/Di=372/1). Without TA1 (CPS3) the rate is Fi/Di = 372/1: 9600 bit/s; the
///   CPS4 ATRs' TA1=18 (Fi=372, Di=12) give 115 200 bit/s once the reader applies it (PPS).
/// - T=0 character: 12 etu (start bit, 8 data bits, parity, 2 guard etu; TC1=FF still means 12 under T=0).
///   A TPDU costs its 5 header bytes, one procedure byte when data moves either way, the data, and SW1 SW2.
///   T=1: 11 etu per character with TC1=FF, else 12; a block adds NAD PCB LEN and LRC (4 bytes); commands longer
///   than IFSC (TA3, default 32) are chained, each extra block acknowledged by a 4-byte R-block.
/// - RSA-2048 private-key operation, CPS4 (NXP ChipDoc): 76 ms. Source: JCAlgTest results for NXP JCOP4 J3R180
///   SECID P71 (crocs-muni/jcalgtest_results, PERFORMANCE_SYMMETRIC_ASYMMETRIC_DATAFIXED, 2021-10-20):
///   ALG_RSA_CRT LENGTH_RSA_2048 Signature_sign() 75.74 ms/op (PKCS#1 PSS, SHA-1), the same chip family.
/// - RSA-2048 private-key operation, CPS3 (IAS-ECC, older chip, maker not public): 150 ms, a conservative pick
///   inside the 50–200 ms range published for RSA-2048 on smart-card coprocessors (smartcardfyi.com glossary
///   "RSA"), twice the P71 figure for a chip about two generations older. No measured CPS3 figure is public.
/// - PSO HASH (last SHA-256 block on the card, CPS3 only): 8 ms, JCAlgTest's ALG_SHA_256 doFinal() on 256 bytes
///   on the same P71 (7.92 ms/op).
/// - Every other command: 2 ms of card-OS work (file selection, memory reads, PIN comparison). Our choice: no
///   public per-command figure; JCAlgTest's cheapest operations (checksum update, key getters) are 0.2–0.5 ms
///   above a command's dispatch, which is itself a few ms on these chips.
/// - A warm reset (cpsd ends every operation that verified a code with one): RST held, then the ATR within 40 000
///   clock cycles (ISO/IEC 7816-3 §6.2.3: 400 to 40 000; we charge the maximum, 11.2 ms), the ATR at the initial
///   rate Fi/Di = 372/1 (12 etu per character), a PPS exchange (4 characters each way at that rate) when TA1 asks
///   for another rate, and 10 ms of card-OS restart (our choice, no public figure).
package struct CardTiming: Sendable, Equatable {
    package enum TransmissionProtocol: Sendable, Equatable { case t0, t1 }

    package static let readerClockHz = 3_571_200.0
    package static let perCommand: Duration = .milliseconds(2)
    package static let psoHash: Duration = .milliseconds(8)
    package static let rsaCPS3: Duration = .milliseconds(150)
    package static let rsaCPS4: Duration = .milliseconds(76)

    /// The protocol pcscd uses: the first one the ATR offers (TD1), which a connect offering T=0|T=1 gets.
    package let transmissionProtocol: TransmissionProtocol
    /// Clock cycles per etu: Fi / Di.
    package let fi: Int
    package let di: Int
    /// Etu per character on the wire.
    package let etuPerCharacter: Int
    /// T=1 information field size of the card (TA3 when T=1 is offered; 32 otherwise).
    package let ifsc: Int
    /// The RSA-2048 private-key operation time of this card.
    package let rsaTime: Duration

    package var bitsPerSecond: Double { Self.readerClockHz * Double(di) / Double(fi) }

    /// The timing of a card with this ATR. `rsaTime` is the card's, not derivable from the ATR.
    package init(atr: [UInt8], rsaTime: Duration) {
        let parsed = ATRInterface(atr)
        fi = parsed.fi
        di = parsed.di
        transmissionProtocol = parsed.firstProtocol == 1 ? .t1 : .t0
        etuPerCharacter = transmissionProtocol == .t1 && parsed.tc1 == 0xFF ? 11 : 12
        ifsc = parsed.ifsc ?? 32
        self.rsaTime = rsaTime
    }

    /// The timing of a virtual card of `generation` with `atr`.
    package init(atr: [UInt8], generation: CardGeneration) {
        self.init(atr: atr, rsaTime: generation == .cps4 ? Self.rsaCPS4 : Self.rsaCPS3)
    }

    /// Characters on the wire for `command` answered `response` (data ‖ SW1 SW2).
    package func characters(command: [UInt8], response: [UInt8]) -> Int {
        switch transmissionProtocol {
        case .t0: return Self.t0Characters(command: command, response: response)
        case .t1: return t1Characters(command: command, response: response)
        }
    }

    /// Transfer time of the exchange's bytes.
    package func transferTime(command: [UInt8], response: [UInt8]) -> Duration {
        let seconds = Double(characters(command: command, response: response) * etuPerCharacter) / bitsPerSecond
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// On-card time: the fixed per-command work, plus the RSA or hash work of a command that did it.
    package func processingTime(command: [UInt8], response: [UInt8]) -> Duration {
        Self.perCommand + workTime(command: command, response: response)
    }

    /// The time a warm reset takes before the card answers commands again.
    package func resetTime(atrLength: Int) -> Duration {
        let initialRate = Self.readerClockHz / 372
        let pps = (fi, di) == (372, 1) ? 0 : 8
        let seconds = 40_000 / Self.readerClockHz + Double((atrLength + pps) * 12) / initialRate
        return .nanoseconds(Int64((seconds * 1e9).rounded())) + Self.cardRestart
    }

    package static let cardRestart: Duration = .milliseconds(10)

    /// The whole time the exchange takes.
    package func duration(command: [UInt8], response: [UInt8]) -> Duration {
        transferTime(command: command, response: response) + processingTime(command: command, response: response)
    }

    // MARK: - Framing

    /// T=0: header (Le dropped from a case-4 APDU, P3=00 added to a case-1 one), a procedure byte when data
    /// moves, the data both ways, SW1 SW2. GET RESPONSE is its own exchange, counted when it comes.
    static func t0Characters(command: [UInt8], response: [UInt8]) -> Int {
        let commandData = command.count > 5 ? min(Int(command[4]), command.count - 5) : 0
        let responseData = max(0, response.count - 2)
        let procedureByte = commandData > 0 || responseData > 0 ? 1 : 0
        return 5 + procedureByte + commandData + responseData + 2
    }

    /// T=1: the APDU in I-blocks of at most IFSC bytes (each extra block acknowledged by an R-block), the answer
    /// in I-blocks of at most 254 bytes (the IFSD readers announce), likewise acknowledged.
    func t1Characters(command: [UInt8], response: [UInt8]) -> Int {
        func blocks(_ count: Int, size: Int) -> Int { max(1, (count + size - 1) / size) }
        let commandBlocks = blocks(command.count, size: ifsc)
        let responseBlocks = blocks(response.count, size: 254)
        let prologueAndLRC = 4
        let acknowledgements = (commandBlocks - 1 + responseBlocks - 1) * 4
        return command.count + response.count + (commandBlocks + responseBlocks) * prologueAndLRC + acknowledgements
    }

    // MARK: - Work

    /// The private-key operations (PSO CDS, INTERNAL AUTHENTICATE, the last PSO DECIPHER chunk) and PSO HASH,
    /// on CLA 00 or a logical channel; only when the card did the work (answer 9000 or 61xx).
    func workTime(command: [UInt8], response: [UInt8]) -> Duration {
        guard command.count >= 4, response.count >= 2 else { return .zero }
        let sw1 = response[response.count - 2]
        let sw2 = response[response.count - 1]
        guard (sw1 == 0x90 && sw2 == 0x00) || sw1 == 0x61 else { return .zero }
        let cla = command[0]
        // ISO interindustry class (b8-b5 = 0000, chaining bit b5 aside): 00-03, 10-13.
        guard cla & 0xEC == 0 else { return .zero }
        let chained = cla & 0x10 != 0
        switch (command[1], command[2], command[3]) {
        case (0x2A, 0x9E, 0x9A) where !chained: return rsaTime
        case (0x88, _, _) where !chained: return rsaTime
        case (0x2A, 0x80, 0x86) where !chained: return rsaTime
        case (0x2A, 0x90, 0xA0): return Self.psoHash
        default: return .zero
        }
    }
}

/// The interface bytes of an ATR that set the transfer rate and framing (ISO/IEC 7816-3 §8.2).
struct ATRInterface {
    var fi = 372
    var di = 1
    var tc1: UInt8?
    var firstProtocol = 0
    var ifsc: Int?

    /// Fi by FI (TA1 high nibble); RFU entries keep the default.
    static let fiTable = [372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0]
    /// Di by DI (TA1 low nibble); RFU entries keep the default.
    static let diTable = [0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0]

    init(_ atr: [UInt8]) {
        guard atr.count >= 2 else { return }
        var index = 2
        var indicator = atr[1] >> 4
        var level = 1
        var sawTD1 = false
        var protocolOfThisLevel = 0
        while true {
            var ta: UInt8?, tc: UInt8?, td: UInt8?
            if indicator & 0x1 != 0 { ta = Self.byte(atr, &index) }
            if indicator & 0x2 != 0 { _ = Self.byte(atr, &index) }
            if indicator & 0x4 != 0 { tc = Self.byte(atr, &index) }
            if indicator & 0x8 != 0 { td = Self.byte(atr, &index) }
            apply(level: level, ta: ta, tc: tc, protocolOfThisLevel: protocolOfThisLevel)
            guard let td else { break }
            if !sawTD1 { (firstProtocol, sawTD1) = (Int(td & 0x0F), true) }
            protocolOfThisLevel = Int(td & 0x0F)
            indicator = td >> 4
            level += 1
        }
    }

    private mutating func apply(level: Int, ta: UInt8?, tc: UInt8?, protocolOfThisLevel: Int) {
        if level == 1 {
            if let ta {
                let fiValue = Self.fiTable[Int(ta >> 4)]
                let diValue = Self.diTable[Int(ta & 0x0F)]
                if fiValue > 0 && diValue > 0 { (fi, di) = (fiValue, diValue) }
            }
            tc1 = tc
        } else if level >= 3, protocolOfThisLevel == 1, ifsc == nil, let ta, ta > 0, ta < 0xFF {
            ifsc = Int(ta)
        }
    }

    private static func byte(_ atr: [UInt8], _ index: inout Int) -> UInt8? {
        guard index < atr.count else { return nil }
        defer { index += 1 }
        return atr[index]
    }
}
