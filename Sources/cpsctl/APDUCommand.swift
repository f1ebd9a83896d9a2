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
            in one transaction, in order. Security commands are refused (VERIFY, CHANGE REFERENCE DATA, RESET \
            RETRY COUNTER, MSE, PSO, INTERNAL/EXTERNAL/GENERAL AUTHENTICATE): use `cpsctl pin` and `cpsctl sign`, \
            so that a PIN is never typed on a command line and the card is never left verified.
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
        if let name = refusedInstructions[bytes[1]] {
            throw ValidationError(
                "Refusing to send \(name) (INS \(Hex.string(from: [bytes[1]]))): it changes or uses the card's "
                    + "security state. Use `cpsctl pin` or `cpsctl sign`.")
        }
        return bytes
    }

    /// Instructions that carry a PIN or PUK (never from a command line: shell history), or that set up or
    /// use a key: sent between cpsd's operations they could sign on a verified state, or leave the card in
    /// one. The counters are in `cpsctl card info`; signatures go through `cpsctl sign`.
    static let refusedInstructions: [UInt8: String] = [
        0x20: "VERIFY", 0x21: "VERIFY", 0x24: "CHANGE REFERENCE DATA", 0x2C: "RESET RETRY COUNTER",
        0x22: "MANAGE SECURITY ENVIRONMENT", 0x2A: "PERFORM SECURITY OPERATION", 0x88: "INTERNAL AUTHENTICATE",
        0x86: "GENERAL AUTHENTICATE", 0x87: "GENERAL AUTHENTICATE", 0x82: "EXTERNAL AUTHENTICATE",
    ]
}
