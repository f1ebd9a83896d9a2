import ArgumentParser
import SmartCardCore

/// `cps-vcard`: a virtual CPS3 or CPS4 card for PC/SC, through vsmartcard's vpcd reader driver.
@main
struct CPSVCard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cps-vcard",
        abstract: "A virtual CPS3 or CPS4 card in a vpcd reader of pcscd.",
        version: Release.version,
        subcommands: [InitCommand.self, RunCommand.self, StackCommand.self]
    )
}
