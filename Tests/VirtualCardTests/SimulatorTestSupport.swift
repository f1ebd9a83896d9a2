import Crypto
import Foundation
import SmartCardCore
import VirtualCard
import _CryptoExtras

/// Keys and card states for the simulator tests. RSA-2048 generation is slow, so the keys are made
/// once per test process.
enum SimulatorFixture {
    static let signatureKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let authenticationKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let readerName = "Virtual Reader 0"
    /// Ends in 99213845, the EF.SN.ICC example of reference §3.2.
    static let serial = "2699213845"
    /// Cryptolib test defaults (reference §15), as ASCII digit bytes: 1234 and 12345678.
    static let pin: [UInt8] = [0x31, 0x32, 0x33, 0x34]
    static let puk: [UInt8] = [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38]

    /// Placeholder certificates: a DER SEQUENCE header around filler, longer than one READ BINARY.
    static let signatureCertificate: [UInt8] = [0x30, 0x82, 0x05, 0x00] + [UInt8](repeating: 0x5A, count: 0x500)
    static let authenticationCertificate: [UInt8] = [0x30, 0x82, 0x04, 0x00] + [UInt8](repeating: 0xA5, count: 0x400)

    static func state(unblocksLeft: Int = 3) -> CardState {
        CardState(
            serial: serial, holder: .testDefault, pin: Credential(value: pin), puk: Credential(value: puk),
            unblocksLeft: unblocksLeft, unblocksMax: 3,
            signatureKeyDER: Array(signatureKey.derRepresentation),
            authenticationKeyDER: Array(authenticationKey.derRepresentation),
            signatureCertificateDER: signatureCertificate, authenticationCertificateDER: authenticationCertificate,
            caChainDER: [])
    }
}

/// Collects the states the card persists, in order.
final class StateRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [CardState] = []

    var states: [CardState] { lock.withLock { recorded } }
    var last: CardState? { states.last }

    func record(_ state: CardState) { lock.withLock { recorded.append(state) } }
}

/// A card in a reader of an in-process backend, with a connection to it.
struct SimulatorRig {
    let card: CPS3Card
    let backend: VirtualBackend
    let connection: any CardConnection
    let recorder: StateRecorder

    init(state: CardState = SimulatorFixture.state()) throws {
        let recorder = StateRecorder()
        self.recorder = recorder
        card = CPS3Card(state: state, onStateChange: { recorder.record($0) })
        backend = VirtualBackend()
        backend.plugReader(SimulatorFixture.readerName)
        try backend.insert(card, into: SimulatorFixture.readerName)
        connection = try backend.connect(to: SimulatorFixture.readerName)
    }

    func session() -> CardSession { CardSession(connection: connection) }
}

extension CardSession {
    /// Sends an APDU written in hex through the T=0 handling of `transmit`.
    mutating func send(_ hex: String) throws -> ResponseAPDU {
        try transmit(CommandAPDU(bytes: Hex.bytes(hex)!))
    }

    mutating func send(_ bytes: [UInt8]) throws -> ResponseAPDU {
        try transmit(CommandAPDU(bytes: bytes))
    }

    /// Sends hex as is, without T=0 handling.
    mutating func raw(_ hex: String) throws -> ResponseAPDU { try transmitRaw(Hex.bytes(hex)!) }

    mutating func verifyPIN(_ pin: [UInt8] = SimulatorFixture.pin) throws -> StatusWord {
        try send([0x00, 0x20, 0x00, 0x01, UInt8(pin.count)] + pin).statusWord
    }

    mutating func verifyPUK(_ puk: [UInt8] = SimulatorFixture.puk) throws -> StatusWord {
        try send([0x00, 0x20, 0x00, 0x02, UInt8(puk.count)] + puk).statusWord
    }

    /// Selects a file by its full path from the MF (P1=09, P2=0C) and reads it whole.
    mutating func readFile(path: [UInt8]) throws -> [UInt8] {
        let selected = try send([0x00, 0xA4, 0x09, 0x0C, UInt8(path.count)] + path)
        guard selected.statusWord.isSuccess else { throw CardError(.internalError, "select \(selected.statusWord)") }
        var content: [UInt8] = []
        while true {
            let offset = content.count
            let read = try send([0x00, 0xB0, UInt8(offset >> 8), UInt8(offset & 0xFF), 0xE7])
            if read.statusWord == .wrongOffset { return content }
            content += read.data
            if read.statusWord == .endOfFileReached { return content }
            guard read.statusWord.isSuccess else { throw CardError(.internalError, "read \(read.statusWord)") }
        }
    }
}

func bytes(_ hex: String) -> [UInt8] { Hex.bytes(hex)! }
