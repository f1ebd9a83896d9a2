/// One line a pinentry (an Assuan server) writes, classified by its first word, without turning the line
/// into a `String` (a `D` line may carry the PIN).
///
/// The server's lines (Assuan manual, "Server responses"): `OK [text]` ends a command, `ERR <code> [text]`
/// fails it, `D <percent-escaped data>` carries data, `S <keyword> …` is a status, `# …` a comment, and
/// `INQUIRE <keyword> …` asks the client for more data before the command can finish.
enum AssuanLine {
    case ok
    case error(code: UInt32, text: String)
    /// The payload, still percent-escaped: a slice of the reader's buffer, valid only during the call.
    case data(ArraySlice<UInt8>)
    /// Status, comment and empty lines, which change nothing for us.
    case informational
    case inquire
    case unexpected

    init(_ line: ArraySlice<UInt8>) {
        if line.isEmpty || line.first == UInt8(ascii: "#") {
            self = .informational
        } else if Self.word(line, is: "OK") {
            self = .ok
        } else if Self.word(line, is: "D") {
            self = .data(line.dropFirst(2))
        } else if Self.word(line, is: "S") {
            self = .informational
        } else if Self.word(line, is: "INQUIRE") {
            self = .inquire
        } else if Self.word(line, is: "ERR"), let parsed = Self.parseError(line.dropFirst(4)) {
            self = parsed
        } else {
            self = .unexpected
        }
    }

    /// True when the line is `word` alone or `word` followed by a space.
    private static func word(_ line: ArraySlice<UInt8>, is word: String) -> Bool {
        let bytes = Array(word.utf8)
        guard line.count >= bytes.count, line.prefix(bytes.count).elementsEqual(bytes) else { return false }
        return line.count == bytes.count || line[line.startIndex + bytes.count] == UInt8(ascii: " ")
    }

    /// `ERR 83886179 Operation cancelled <Pinentry>`: a decimal gpg-error value, then free text.
    private static func parseError(_ rest: ArraySlice<UInt8>) -> AssuanLine? {
        let digits = rest.prefix { (0x30...0x39).contains($0) }
        guard !digits.isEmpty, digits.count <= 10, let code = UInt32(String(decoding: digits, as: UTF8.self)) else {
            return nil
        }
        let text = rest.dropFirst(digits.count).drop { $0 == UInt8(ascii: " ") }
        return .error(code: code, text: PinEntryDialog.untrusted(String(decoding: text, as: UTF8.self)))
    }
}
