import ArgumentParser
import SmartCardCore

/// `cpsctl`: the diagnostic and management tool for installers, support and users.
@main
struct CPSCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpsctl",
        abstract: "Diagnose and manage CPS cards and readers.",
        discussion: """
            Talks to the readers through pcscd (PC/SC). Set PCSCLITE_CSOCK_NAME to reach a private \
            pcscd, such as the one `cps-vcard stack` starts. When cpsd runs, `card`, `pin` and `sign` go \
            through it as a PKCS#11 client (p11-kit-client.so) so the two never fight over the reader; \
            --daemon-socket names its socket, --direct forces PC/SC.
            """,
        version: Release.version,
        subcommands: [
            ReadersCommand.self, CardCommand.self, PINCommand.self, SignCommand.self, SetupCommand.self, APDUCommand.self,
            BenchCommand.self, DiagCommand.self, BridgeCommand.self,
        ]
    )
}
