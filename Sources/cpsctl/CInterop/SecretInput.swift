import Glibc
import SmartCardCore

/// Reads PINs and PUKs without ever holding them in a `String`: from the terminal with echo off, or
/// from a file descriptor a script passes (`--pin-fd 3 3<pinfile`), one secret per line.
enum SecretInput {
    static let maxLength = 16

    /// Prompts on the terminal (stderr) and reads one line with echo disabled.
    static func fromTerminal(prompt: String) throws -> SecretBytes {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard tty >= 0 else {
            throw CLIError("No terminal to ask for the \(prompt.lowercased()) on; pass it with --pin-fd / --puk-fd.")
        }
        defer { close(tty) }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        _ = ": ".withCString { write(tty, $0, 2) }
        var saved = termios()
        tcgetattr(tty, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        return try readLine(from: tty)
    }

    /// Reads one line from an open file descriptor (not closed: several secrets may follow).
    static func fromDescriptor(_ fd: Int32) throws -> SecretBytes {
        guard fcntl(fd, F_GETFD) != -1 else { throw CLIError("File descriptor \(fd) is not open.") }
        return try readLine(from: fd)
    }

    /// Byte by byte up to a newline or EOF, into locked, zeroed-on-release memory; a trailing CR is dropped.
    private static func readLine(from fd: Int32) throws -> SecretBytes {
        var length = 0
        var tooLong = false
        let secret = try SecretBytes(count: maxLength) { buffer in
            var byte: UInt8 = 0
            while read(fd, &byte, 1) == 1 {
                if byte == 0x0A { break }
                if byte == 0x0D { continue }
                guard length < buffer.count else {
                    tooLong = true
                    continue
                }
                buffer[length] = byte
                length += 1
            }
            byte = 0
            if tooLong { throw CLIError("The code entered is longer than \(maxLength) characters.") }
        }
        return secret.prefix(length)
    }
}
