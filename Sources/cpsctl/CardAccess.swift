import ArgumentParser
import Foundation
import IASECC
import PCSC
import SmartCardCore

/// Options every card command shares: which reader, and an APDU trace for support.
struct CardOptions: ParsableArguments {
    @OptionGroup var selection: ReaderSelection

    @Flag(name: .long, help: "Print every APDU exchanged to stderr (PIN data is redacted).")
    var trace = false

    /// Connects to the card and runs `body` in one transaction, turning errors into advice.
    func withCard<R>(_ body: (inout CardSession) throws -> R) throws -> R {
        var connection = try selection.connect(backend: PCSCBackend())
        if trace {
            connection = TracingConnection(connection) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        defer { connection.disconnect(.leave) }
        do {
            return try CPS3Driver.perform(on: connection, body)
        } catch let error as IASECCError {
            throw CLIError.explain(error)
        } catch let error as CardError {
            throw CLIError.explain(error)
        }
    }
}

extension CardOptions {
    /// `withCard` with the driver of the card's generation (chosen by ATR).
    func withDriver<R>(_ body: (inout CardSession, any CardDriver) throws -> R) throws -> R {
        try withCard { session in
            let driver = try CardDrivers.driver(for: session)
            return try body(&session, driver)
        }
    }
}

extension CLIError {
    /// Card answers in words, with what to do next. A wrong PIN says how many tries remain.
    static func explain(_ error: IASECCError) -> CLIError {
        switch error.code {
        case .wrongPIN:
            CLIError("Wrong code. \(error.triesLeft ?? 0) tries left before it is blocked.")
        case .blocked:
            CLIError(
                "The code is blocked. Unblock the PIN with `cpsctl pin unblock` and the 8-digit unblocking code "
                    + "(PUK) received with the card; if the PUK is blocked too, ask ANS support for a new card.")
        case .noUnblocksLeft:
            CLIError("This card cannot be unblocked any more (no unblocks left): ask ANS support for a new card.")
        case .invalidPINFormat, .inputTooLong: CLIError(error.reason)
        case .notCPS3: CLIError("This is not a CPS3 or CPS4 card: \(error.reason)")
        case .transport: error.cardError.map(explain) ?? CLIError(error.description)
        default: CLIError("The card answered unexpectedly: \(error)")
        }
    }
}
