import ArgumentParser
import Foundation
import IASECC
import SmartCardCore

/// `cpsctl pin`: change the PIN, or unblock it with the PUK. Codes come from the terminal with echo
/// off, or from file descriptors for scripts; never from the command line. Formats are checked before
/// the card is touched, and the last try is never spent without a confirmation.
struct PINCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin",
        abstract: "Change or unblock the card's PIN.",
        subcommands: [PINChangeCommand.self, PINUnblockCommand.self]
    )
}

/// Where codes come from, and the last-try confirmation.
struct SecretOptions: ParsableArguments {
    @Option(name: .customLong("pin-fd"), help: "Read PINs from this file descriptor, one per line.")
    var pinFD: Int32?

    @Flag(name: .long, help: "Do not ask before spending the last try (for scripts).")
    var confirmLastTry = false

    func pin(_ prompt: String) throws -> SecretBytes {
        // No core file of a process holding a PIN (as cpsd); failures only weaken that, so they are ignored.
        _ = ProcessHardening.disableCoreDumps()
        return try pinFD.map { try SecretInput.fromDescriptor($0) } ?? SecretInput.fromTerminal(prompt: prompt)
    }

    /// Reads the new PIN; on a terminal it is typed twice.
    func newPIN() throws -> SecretBytes {
        let first = try pin("New PIN (4 digits)")
        try check(first, length: CPS3Driver.pinLength, what: "new PIN")
        guard pinFD == nil else { return first }
        let again = try SecretInput.fromTerminal(prompt: "New PIN again")
        let same = first.withBytes { again.constantTimeEquals($0) }
        guard same else { throw CLIError("The two new PINs differ; nothing was changed.") }
        return first
    }

    func check(_ secret: borrowing SecretBytes, length: Int, what: String) throws {
        guard secret.count == length, secret.isAllDigits else {
            throw CLIError("The \(what) must be exactly \(length) digits; the card was not touched.")
        }
    }

    /// With one try left, a wrong code blocks: ask first (the terminal), or require --confirm-last-try.
    func confirmIfLastTry(_ counters: CredentialCounters, what: String) throws {
        FileHandle.standardError.write(Data("\(what): \(counters.triesLeft) of \(counters.maxTries) tries left.\n".utf8))
        guard counters.triesLeft == 1, !confirmLastTry else { return }
        guard pinFD == nil, let answer = Self.ask("This is the last try: a wrong \(what) blocks it. Continue? [y/N] ")
        else {
            throw CLIError("Last \(what) try left: not spent. Re-run with --confirm-last-try to use it.")
        }
        guard answer.lowercased().hasPrefix("y") else { throw CLIError("Cancelled; no try was spent.") }
    }

    private static func ask(_ question: String) -> String? {
        FileHandle.standardError.write(Data(question.utf8))
        return readLine()
    }
}

struct PINChangeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change", abstract: "Change the PIN (asks for the current PIN and the new one).")

    @OptionGroup var card: CardOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        if let route = daemon.route() { return try runViaDaemon(route) }
        let status = try card.withDriver { try $1.readPINStatus(&$0) }
        guard !status.pin.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PIN")) }
        try secrets.confirmIfLastTry(status.pin, what: "PIN")
        let old = try secrets.pin("Current PIN")
        try secrets.check(old, length: CPS3Driver.pinLength, what: "current PIN")
        let new = try secrets.newPIN()
        try card.withDriver { try $1.changePIN(&$0, old: old, new: new) }
        print("PIN changed.")
    }
}

struct PINUnblockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock", abstract: "Unblock the PIN with the 8-digit unblocking code (PUK) and set a new PIN.")

    @OptionGroup var card: CardOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var secrets: SecretOptions

    @Option(name: .customLong("puk-fd"), help: "Read the PUK from this file descriptor.")
    var pukFD: Int32?

    func run() async throws {
        if let route = daemon.route() { return try runViaDaemon(route) }
        let status = try card.withDriver { try $1.readPINStatus(&$0) }
        guard !status.puk.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PUK")) }
        if status.unblocksLeft == 0 { throw CLIError.explain(IASECCError(.noUnblocksLeft, "")) }
        if let left = status.unblocksLeft { FileHandle.standardError.write(Data("Unblocks left: \(left).\n".utf8)) }
        try secrets.confirmIfLastTry(status.puk, what: "PUK")
        let puk = try pukFD.map { try SecretInput.fromDescriptor($0) } ?? SecretInput.fromTerminal(prompt: "PUK (8 digits)")
        try secrets.check(puk, length: CPS3Driver.pukLength, what: "PUK")
        let new = try secrets.newPIN()
        try card.withDriver { try $1.unblockPIN(&$0, puk: puk, newPIN: new) }
        print("PIN unblocked and set; 3 tries available.")
    }
}
