import ArgumentParser
import PCSC
import SmartCardCore

/// `cpsctl apdu HEX`: sends one raw APDU, for support work. T=0 chaining is shown, not hidden, unless
/// `--get-response` asks for it.
struct APDUCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apdu",
        abstract: "Send raw APDUs to the card and print the responses.",
        discussion: """
            Each argument is one command APDU in hex (spaces or colons allowed inside quotes); all are sent \
            in one transaction, in order. VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER are refused: \
            use `cpsctl pin` so that a PIN is never typed on a command line.
            """
    )

    @Argument(help: "Command APDUs in hex, e.g. 00A4040C0DE828BD080F8025000001FF0010")
    var commands: [String]

    @OptionGroup var selection: ReaderSelection

    @Flag(name: .long, help: "Follow 61xx with GET RESPONSE and retry 6Cxx with the right Le.")
    var getResponse = false

    func run() async throws {
        let apdus = try commands.map(Self.parse)
        let connection = try selection.connect(backend: PCSCBackend())
        defer { connection.disconnect(.leave) }
        try CLIError.wrap {
            try connection.withTransaction { session in
                for apdu in apdus {
                    let response: ResponseAPDU
                    if getResponse {
                        response = try session.transmit(try CommandAPDU(bytes: apdu))
                    } else {
                        response = try session.transmitRaw(apdu)
                    }
                    print("> \(Hex.string(from: apdu))")
                    let data = response.data.isEmpty ? "" : Hex.string(from: response.data) + " "
                    print("< \(data)\(response.statusWord)")
                }
            }
        }
    }

    static func parse(_ text: String) throws -> [UInt8] {
        guard let bytes = Hex.bytes(text) else { throw ValidationError("\"\(text)\" is not hexadecimal bytes.") }
        guard (try? CommandAPDU(bytes: bytes)) != nil else {
            throw ValidationError("\"\(text)\" is not a command APDU (CLA INS P1 P2 [Lc data] [Le]).")
        }
        // These instructions carry a PIN or PUK in their data: never from a command line (shell history).
        if [0x20, 0x24, 0x2C].contains(bytes[1]) && bytes.count > 5 {
            throw ValidationError("Refusing to send a PIN or PUK from the command line; use `cpsctl pin`.")
        }
        return bytes
    }
}
