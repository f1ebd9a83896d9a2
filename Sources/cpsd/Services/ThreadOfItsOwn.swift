import Foundation

/// Runs a blocking call (a server's `stop()`, which joins its threads) on a thread of its own and waits
/// for it without holding a thread of the concurrency pool.
func onThreadOfItsOwn(named name: String, _ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let thread = Thread {
            body()
            continuation.resume()
        }
        thread.name = name
        thread.start()
    }
}
