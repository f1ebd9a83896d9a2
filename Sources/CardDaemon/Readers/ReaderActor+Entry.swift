import PKCS11

/// What a reader does for one card operation: synchronous, isolated to the reader, so that nothing else
/// runs on the reader until it returns.
typealias ReaderWork<Output: Sendable> = @Sendable (isolated ReaderActor) throws(TokenError) -> Output

/// The two ways into a reader, one hop each: from a task (`run`, an ordinary actor call), and from a
/// thread that is not a task (`runBlocking`: the call is handed to the reader's own thread and the caller
/// waits, no task in between).
extension ReaderActor {
    func run<Output: Sendable>(_ work: ReaderWork<Output>) throws(TokenError) -> Output {
        try work(self)
    }

    nonisolated func runBlocking<Output: Sendable>(_ work: @escaping ReaderWork<Output>) throws(TokenError) -> Output {
        assert(!TaskContext.isInsideTask, "runBlocking from a task: a blocked pool thread can starve the reader")
        let result = executor.runAndWait { () -> Result<Output, TokenError> in
            // On the reader's thread, between two of its jobs: the actor is ours.
            self.assumeIsolated { reader in Result { () throws(TokenError) in try work(reader) } }
        }
        return try result.get()
    }
}
