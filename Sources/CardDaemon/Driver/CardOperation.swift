import PKCS11

/// One card operation, described once: which slot, what its reader does (synchronously, on the reader's
/// thread), and what is logged when it is over, however it was run.
package struct CardOperation<Output: Sendable>: Sendable {
    let slot: SlotID
    let work: ReaderWork<Output>
    let finished: @Sendable (_ result: Result<Output, TokenError>, _ duration: Duration) -> Void

    init(
        slot: SlotID, work: @escaping ReaderWork<Output>,
        finished: @escaping @Sendable (Result<Output, TokenError>, Duration) -> Void = { _, _ in }
    ) {
        self.slot = slot
        self.work = work
        self.finished = finished
    }
}
