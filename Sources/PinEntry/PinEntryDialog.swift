/// What one pinentry dialog shows. Every text is plain UTF-8: escaping for the Assuan line is done when
/// the dialog is sent; parts that come from outside (a web origin, a card holder's name) go through
/// `untrusted(_:)` first.
package struct PinEntryDialog: Sendable {
    /// The window title (SETTITLE).
    package var title: String?
    /// The main text (SETDESC); may span several lines.
    package var description: String
    /// The label next to the entry field (SETPROMPT), e.g. "PIN:".
    package var prompt: String?
    /// An error shown above the entry (SETERROR), e.g. "Wrong PIN, 2 tries left".
    package var error: String?
    /// The OK and Cancel button labels (SETOK, SETCANCEL).
    package var okLabel: String?
    package var cancelLabel: String?
    /// How long the user has (SETTIMEOUT, whole seconds, at least one). Our watchdog ends the program if
    /// it has not answered `PinEntryProgram.watchdogGrace` later (pinentry-curses does not time out once
    /// the user has started typing). nil: no limit but the caller's cancellation.
    package var timeout: Duration?
    /// Sent as SETKEYINFO; nil sends `SETKEYINFO --clear`. Either way pinentry never caches the PIN: it
    /// caches only when the client sends OPTION allow-external-password-cache, which we never do.
    package var keyInfo: String?

    package init(
        description: String, title: String? = nil, prompt: String? = nil, error: String? = nil,
        okLabel: String? = nil, cancelLabel: String? = nil, timeout: Duration? = nil, keyInfo: String? = nil
    ) {
        self.description = description
        self.title = title
        self.prompt = prompt
        self.error = error
        self.okLabel = okLabel
        self.cancelLabel = cancelLabel
        self.timeout = timeout
        self.keyInfo = keyInfo
    }

    /// Makes text from outside safe to show: control characters (C0, DEL, C1), line and paragraph
    /// separators and invisible format characters (bidirectional overrides, zero-width characters) become
    /// U+FFFD, so a crafted origin can neither fake extra lines nor reorder what the user reads, and the
    /// tampering stays visible. Longer than `maximumLength` characters: cut, with "…".
    package static func untrusted(_ text: String, maximumLength: Int = 200) -> String {
        var result = String.UnicodeScalarView()
        var length = 0
        for scalar in text.unicodeScalars {
            guard length < maximumLength else {
                result.append("…")
                break
            }
            result.append(isSuspicious(scalar) ? "\u{FFFD}" : scalar)
            length += 1
        }
        return String(result)
    }

    private static func isSuspicious(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate: true
        default: false
        }
    }

    /// The SET* commands for this dialog, in order, as (verb, value) pairs.
    var setCommands: [(verb: String, value: String)] {
        var commands: [(verb: String, value: String)] = []
        if let title { commands.append(("SETTITLE", title)) }
        commands.append(("SETDESC", description))
        if let prompt { commands.append(("SETPROMPT", prompt)) }
        if let error { commands.append(("SETERROR", error)) }
        if let okLabel { commands.append(("SETOK", okLabel)) }
        if let cancelLabel { commands.append(("SETCANCEL", cancelLabel)) }
        return commands
    }

    /// SETTIMEOUT's argument: whole seconds, rounded up, at least one.
    var timeoutSeconds: Int64? {
        guard let timeout else { return nil }
        let (seconds, attoseconds) = timeout.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
