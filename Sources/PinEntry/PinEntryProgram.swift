// PinEntry — how cpsd asks the practitioner for the card's PIN.
//
// pinentry is GnuPG's family of small dialog programs (pinentry-gnome3, pinentry-qt, pinentry-gtk2,
// pinentry-curses, pinentry-tty…; Debian's `pinentry` alternative picks the desktop's flavour). A client
// starts one as a child and talks to it over its standard input and output with the Assuan protocol: a few
// SET* lines say what the dialog shows, GETPIN opens it, and the answer comes back as a `D` line. gpg-agent,
// scdaemon, ssh-agent front ends and password managers all ask for secrets this way.
//
// Why cpsd uses it:
// - The PIN is typed into the user's own desktop dialog, drawn by a program of their distribution, and goes
//   straight from it to cpsd over a private socket pair: it never passes through the browser, the web page
//   or the WebExtension, which only learn whether the operation succeeded.
// - The dialog says who asks (the requesting web origin), for whom (the card holder) and what is at stake
//   (tries left), in a window the page cannot draw or imitate inside its own content.
// - It works on every desktop (GNOME, KDE, others) and on a text console (curses, via GPG_TTY) without a
//   toolkit of ours, and follows the user's accessibility and locale settings.
//
// This module starts the program, speaks the client side of the protocol, and returns the PIN as a
// `SecretBytes` read from the bytes of the `D` line (never through a `String`), zeroing every buffer it
// passed through. It never lets pinentry cache the PIN.

import Foundation
package import SmartCardCore

/// A pinentry program and how to run it. Each call runs the program once, for one dialog, on the calling
/// thread, which it blocks until the user answers, the dialog times out, or the caller cancels.
package struct PinEntryProgram: Sendable {
    /// The program; nil looks for `pinentry` on the environment's PATH. A bare name is looked up on PATH.
    package var path: String?
    /// The program's whole environment: DISPLAY, WAYLAND_DISPLAY, DBUS_SESSION_BUS_ADDRESS for desktop
    /// pinentries; GPG_TTY (sent as OPTION ttyname) and TERM for curses; LANG / LC_* for the texts.
    package var environment: [String: String]
    /// How long the program may take to greet and to acknowledge each setting. A dialog's own wait is
    /// bounded by `PinEntryDialog.timeout` instead.
    package var responseTimeout: Duration
    /// How long after the dialog's timeout our watchdog stops a program that has not answered.
    package var watchdogGrace: Duration

    /// Longer answers are a protocol error (CPS PINs have 4 to 8 digits; this leaves room for passphrases).
    package static let maximumPINLength = 256

    package init(
        path: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        responseTimeout: Duration = .seconds(15), watchdogGrace: Duration = .seconds(10)
    ) {
        self.path = path
        self.environment = environment
        self.responseTimeout = responseTimeout
        self.watchdogGrace = watchdogGrace
    }

    /// Asks for a PIN (GETPIN). An empty answer (OK with nothing typed) is an empty secret.
    package func getPIN(
        _ dialog: PinEntryDialog, cancellation: PinEntryCancellation? = nil
    ) throws(PinEntryError) -> SecretBytes {
        let pin = PINAccumulator(capacity: Self.maximumPINLength)
        _ = try PinEntryConversation(program: self, dialog: dialog, cancellation: cancellation).run(.getPIN, pin: pin)
        return pin.takeSecret()
    }

    /// Asks a yes/no question (CONFIRM): true for OK, false for the "no" answer. Cancel throws `.cancelled`.
    package func confirm(_ dialog: PinEntryDialog, cancellation: PinEntryCancellation? = nil) throws(PinEntryError) -> Bool {
        let answer = try PinEntryConversation(program: self, dialog: dialog, cancellation: cancellation)
            .run(.confirm, pin: nil)
        return answer == .ok
    }

    /// Shows a message with one button (MESSAGE), e.g. a pairing code; returns when the user closes it.
    package func message(_ dialog: PinEntryDialog, cancellation: PinEntryCancellation? = nil) throws(PinEntryError) {
        _ = try PinEntryConversation(program: self, dialog: dialog, cancellation: cancellation).run(.message, pin: nil)
    }

    /// The program's absolute path: `path` if it names a file, else the first executable of that name (or
    /// `pinentry`) on the environment's PATH.
    package func resolvedPath() throws(PinEntryError) -> String {
        let name = path ?? "pinentry"
        if name.contains("/") {
            guard Self.isExecutableFile(name) else {
                throw PinEntryError(.programNotFound, "\(name) is not an executable file")
            }
            return name
        }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/\(name)"
            if Self.isExecutableFile(candidate) { return candidate }
        }
        throw PinEntryError(.programNotFound, "no \(name) on PATH (\(searchPath))")
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        let files = FileManager.default
        return files.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && files.isExecutableFile(atPath: path)
    }
}
