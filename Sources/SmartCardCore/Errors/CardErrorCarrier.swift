/// An error type that also stands for a failure of the card's transport (the reader, pcscd, a pulled card), so
/// that a whole card operation — the transaction, the driver's commands, its recovery — throws one type and the
/// caller decides by its code, with no cast to find the `CardError` again (`CardConnection.withTransaction`).
package protocol CardErrorCarrier: Error {
    /// The error standing for `cardError`, a failure of the transport.
    init(_ cardError: CardError)
    /// The transport failure this error stands for, or nil when it is about something else.
    var cardError: CardError? { get }
}
