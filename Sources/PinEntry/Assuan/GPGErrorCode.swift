/// The libgpg-error codes a pinentry answers with, in the `ERR` line of a failed command.
///
/// The value on the wire is `source << 24 | code` (pinentry's source is GPG_ERR_SOURCE_PINENTRY = 5, so a
/// cancel reads `ERR 83886179`); only the low 16 bits name the error, so we match on those and accept any
/// source. Numbers from libgpg-error 1.46's gpg-error.h (Debian 12 libgpg-error-dev); what each pinentry
/// flavour returns when: pinentry 1.2's pinentry.c (`cmd_getpin`, `cmd_confirm`) and its front ends, which
/// set GPG_ERR_TIMEOUT when their SETTIMEOUT timer fires with no input.
enum GPGErrorCode {
    static let timeout: UInt32 = 62  // GPG_ERR_TIMEOUT: the dialog's own SETTIMEOUT expired.
    static let canceled: UInt32 = 99  // GPG_ERR_CANCELED: the user pressed Cancel or Escape.
    static let notConfirmed: UInt32 = 114  // GPG_ERR_NOT_CONFIRMED: CONFIRM answered with the "no" button.
    static let fullyCanceled: UInt32 = 198  // GPG_ERR_FULLY_CANCELED: cancel, and stop asking.
    static let assuanCanceled: UInt32 = 277  // GPG_ERR_ASS_CANCELED: an inquiry was cancelled.

    /// The error code in a wire value, without its source.
    static func code(_ value: UInt32) -> UInt32 { value & 0xFFFF }

    static func isCancel(_ value: UInt32) -> Bool {
        [canceled, fullyCanceled, assuanCanceled].contains(code(value))
    }
}
