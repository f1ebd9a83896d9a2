import Dispatch
import PKCS11
import SmartCardCore

/// A PIN or PUK handed from a connection thread to a reader actor. `SecretBytes` is `~Copyable` and
/// the caller only lends it, so the bridge takes one copy into this box; the copy is zeroed when the
/// box dies (`SecretBytes.deinit`), right after the operation.
final class SecretHolder: Sendable {
    let secret: SecretBytes

    init(copying source: borrowing SecretBytes) {
        secret = source.withBytes { bytes in
            SecretBytes(count: bytes.count) { target in
                for index in bytes.indices { target[index] = bytes[index] }
            }
        }
    }

    /// No secret: an operation that must not verify anything.
    init() {
        secret = SecretBytes(count: 0) { _ in }
    }
}

/// Runs async work from a synchronous caller and waits for it (the TokenDriver seam is synchronous).
///
/// The caller must be a dedicated thread (a p11-kit connection thread, a test's `Thread`), never a
/// thread of the cooperative pool: the wait blocks the calling thread, and a pool thread blocked that
/// way could starve the very task it waits for.
enum BlockingBridge {
    private final class Box<R: Sendable>: @unchecked Sendable {
        var result: Result<R, TokenError>?
    }

    static func wait<R: Sendable>(_ operation: @escaping @Sendable () async throws(TokenError) -> R) throws(TokenError)
        -> R
    {
        assert(!TaskContext.isInsideTask, "TokenDriver calls must come from a dedicated thread, not a task")
        let semaphore = DispatchSemaphore(value: 0)
        let box = Box<R>()
        Task {
            do throws(TokenError) {
                box.result = .success(try await operation())
            } catch {
                box.result = .failure(error)
            }
            semaphore.signal()
        }
        semaphore.wait()
        return try box.result!.get()
    }

    static func wait(_ operation: @escaping @Sendable () async -> Void) {
        let _: Void? = try? wait { () async throws(TokenError) in await operation() }
    }
}
