import Glibc

/// A pinentry program running as our child: its standard input and output are one end of a Unix socket
/// pair (a socket rather than two pipes, so a write to a child that died raises no SIGPIPE: `MSG_NOSIGNAL`
/// exists for sockets only, and a library must not change the process's signal dispositions).
///
/// Only the thread running the conversation touches this object. The child is reaped by `finish`, and
/// nowhere else, so its pid cannot be reused while anybody may still signal it (see `PinEntryCancellation`).
final class ChildProcess {
    let pid: pid_t
    private var socket: Int32
    private var reaped = false

    private init(pid: pid_t, socket: Int32) {
        self.pid = pid
        self.socket = socket
    }

    deinit {
        // `finish` is always called; this is the safety net that keeps the no-zombie promise.
        if !reaped { _ = finish(graceful: false) }
    }

    /// Starts `path` (no arguments) with `environment`; stderr goes to /dev/null.
    static func spawn(path: String, environment: [String: String]) throws(PinEntryError) -> ChildProcess {
        var ends: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else {
            throw PinEntryError(.programFailed, "cannot create the socket pair: \(String(cString: strerror(errno)))")
        }
        // dup2 onto 0 or 1 from the same number would keep close-on-exec: move the child's end above 2.
        var childEnd = ends[1]
        if childEnd < 3 {
            childEnd = fcntl(ends[1], F_DUPFD_CLOEXEC, 3)
            close(ends[1])
        }
        defer { close(childEnd) }
        var pid: pid_t = 0
        let status = spawnProcess(&pid, path: path, childEnd: childEnd, environment: environment)
        guard status == 0 else {
            close(ends[0])
            let reason = String(cString: strerror(status))
            if [ENOENT, EACCES, ENOTDIR, ELOOP].contains(status) {
                throw PinEntryError(.programNotFound, "cannot run \(path): \(reason)")
            }
            throw PinEntryError(.programFailed, "cannot run \(path): \(reason)")
        }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        return ChildProcess(pid: pid, socket: ends[0])
    }

    private static func spawnProcess(
        _ pid: inout pid_t, path: String, childEnd: Int32, environment: [String: String]
    ) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childEnd, 0)
        posix_spawn_file_actions_adddup2(&actions, childEnd, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Descriptors another thread opened without close-on-exec must not leak into the dialog program.
        if let addCloseFrom = SpawnExtensions.addCloseFrom { _ = addCloseFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A caller may block or ignore signals (tests block SIGCHLD; servers ignore SIGPIPE); the dialog
        // program must start with the defaults so SIGTERM ends it and its toolkit sees a normal process.
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        return posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    }

    // MARK: - Talking

    enum ReceiveOutcome {
        case received(Int)
        case endOfFile
        case deadlinePassed
        case cancelled
    }

    /// Waits for bytes and reads them into `buffer[offset...]`. Wakes at least every 100 ms to ask
    /// `isCancelled`, so a cancellation is seen even when the child ignores the signal it was sent.
    func receive(
        into buffer: inout [UInt8], from offset: Int, deadline: ContinuousClock.Instant?,
        isCancelled: () -> Bool
    ) throws(PinEntryError) -> ReceiveOutcome {
        precondition(offset < buffer.count)
        while true {
            if isCancelled() { return .cancelled }
            guard let wait = Self.pollMilliseconds(until: deadline) else { return .deadlinePassed }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, wait)
            if ready < 0 && errno != EINTR { throw Self.failure("poll") }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { bytes in
                recv(socket, bytes.baseAddress! + offset, bytes.count - offset, 0)
            }
            if count > 0 { return .received(count) }
            if count == 0 || errno == ECONNRESET { return .endOfFile }
            if errno != EAGAIN && errno != EINTR { throw Self.failure("recv") }
        }
    }

    /// Writes all of `bytes`; fails if the child is gone or has not read them by `deadline`.
    func send(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(PinEntryError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(socket, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                written += count
                continue
            }
            if errno == EPIPE || errno == ECONNRESET {
                throw PinEntryError(.programFailed, "pinentry closed its input")
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN else { throw Self.failure("send") }
            guard let wait = Self.pollMilliseconds(until: deadline) else {
                throw PinEntryError(.programFailed, "pinentry does not read its input")
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, wait)
        }
    }

    // MARK: - Ending

    /// Closes our end and reaps the child. `graceful`: the conversation ended normally (we said BYE), so
    /// the child gets two seconds to exit by itself; otherwise SIGTERM at once (a curses pinentry restores
    /// the terminal on SIGTERM), then SIGKILL if it is still there after a second. Returns the wait status.
    @discardableResult
    func finish(graceful: Bool) -> Int32? {
        if socket >= 0 {
            close(socket)
            socket = -1
        }
        guard !reaped else { return nil }
        if graceful, let status = waitForExit(within: .seconds(2)) { return status }
        kill(pid, SIGTERM)
        if let status = waitForExit(within: .seconds(1)) { return status }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        return status
    }

    private func waitForExit(within limit: Duration) -> Int32? {
        let deadline = ContinuousClock.now + limit
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno == ECHILD) {
                reaped = true
                return result == pid ? status : nil
            }
            if ContinuousClock.now >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// Sends SIGTERM to a child that has not been reaped yet (the caller guarantees it).
    static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
    }

    /// A wait status in words, for error messages.
    static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit status \((status >> 8) & 0xff)" }
        return "signal \(signal)"
    }

    // MARK: - Helpers

    /// Milliseconds to give `poll`: at most 100, or nil when the deadline has passed.
    private static func pollMilliseconds(until deadline: ContinuousClock.Instant?) -> Int32? {
        guard let deadline else { return 100 }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return nil }
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(min(100, milliseconds + 1))
    }

    private static func failure(_ function: String) -> PinEntryError {
        PinEntryError(.programFailed, "\(function): \(String(cString: strerror(errno)))")
    }
}

/// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, looked up at run time: Swift's Glibc module
/// does not export it, and an older glibc may not have it (the child then inherits stray descriptors).
private enum SpawnExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    static let addCloseFrom: AddCloseFrom? = {
        guard let handle = dlopen(nil, RTLD_NOW),
            let symbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
