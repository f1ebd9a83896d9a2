import Foundation
import Glibc

/// One running pcscd of a virtual stack, as a child process that cannot outlive its owner.
///
/// pcscd runs under a small `sh` wrapper whose standard input is one end of a socket pair (the
/// watchdog channel); only this object holds the other end (close-on-exec, so no other child inherits
/// it). The wrapper starts pcscd in the background and waits on the channel: when it reads EOF — because
/// `stop()` closed our end, or because the owning process died, even by SIGKILL — it sends SIGTERM to
/// pcscd and reaps it. The wrapper also exits when pcscd exits on its own, which is how a failed start
/// is noticed.
///
/// Isolation: in `.privateMount` mode the wrapper runs under `unshare --mount --propagation private`
/// and bind-mounts the stack's `run/` over /run/pcscd (pcscd 1.9.9 has that path compiled in and ignores
/// PCSCLITE_CSOCK_NAME), so the daemon's socket appears as `run/pcscd.comm` outside the namespace and a
/// pcscd of the host is never touched.
final class PCSCDProcess: @unchecked Sendable {
    enum Isolation: Sendable {
        case privateMount
        case hostSocket
    }

    private let process = Process()
    private let exitCondition = NSCondition()
    private var exited = false  // Guarded by `exitCondition`.
    private var watchdogWriteEnd: Int32

    /// The wrapper: fd 3 keeps the watchdog channel for the background reader, pcscd gets neither.
    private static let wrapperScript = #"""
        exec 3<&0 </dev/null >>"$3" 2>&1
        if [ "$4" = isolated ]; then
            mount --bind "$1" /run/pcscd || { echo "cps-vstack: cannot bind $1 over /run/pcscd"; exit 97; }
        fi
        pcscd --foreground --info --config "$2" 3<&- &
        pid=$!
        { cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } &
        exec 3<&-
        wait "$pid"
        """#

    /// Spawns the wrapper and pcscd. Does not wait for pcscd to be ready.
    init(layout: StackLayout, isolation: Isolation) throws(VirtualStackError) {
        // A socket pair instead of a pipe: it is created close-on-exec atomically (Glibc's module map
        // does not offer pipe2), so no process spawned meanwhile by another thread inherits it.
        var ends: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else {
            throw VirtualStackError(.pcscdFailed, "socketpair failed: errno \(errno)")
        }
        watchdogWriteEnd = ends[1]
        let readEnd = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
        let mode = isolation == .privateMount ? "isolated" : "host"
        let shellArguments = ["-c", Self.wrapperScript, "cps-vstack", layout.runDirectory.path,
                              layout.configDirectory.path, layout.logPath, mode]
        switch isolation {
        case .privateMount:
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["--mount", "--propagation", "private", "--", "/bin/sh"] + shellArguments
        case .hostSocket:
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = shellArguments
        }
        process.standardInput = readEnd
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let condition = exitCondition
        process.terminationHandler = { [weak self] _ in
            condition.lock()
            self?.exited = true
            condition.broadcast()
            condition.unlock()
        }
        do {
            try process.run()
        } catch {
            close(watchdogWriteEnd)
            throw VirtualStackError(.pcscdFailed, "cannot spawn the pcscd wrapper: \(error)")
        }
        try? readEnd.close()
    }

    deinit { stop() }

    var hasExited: Bool {
        exitCondition.lock()
        defer { exitCondition.unlock() }
        return exited
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Waits until the wrapper (and so pcscd) has exited; false on timeout.
    func waitForExit(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        exitCondition.lock()
        defer { exitCondition.unlock() }
        while !exited {
            if !exitCondition.wait(until: deadline) { return exited }
        }
        return true
    }

    /// Closes the watchdog channel (pcscd gets SIGTERM and is reaped by the wrapper) and waits for the exit.
    /// If the wrapper hangs, pcscd is killed through its pid file and the wrapper with SIGKILL.
    func stop(pidFile: String? = nil) {
        if watchdogWriteEnd >= 0 {
            close(watchdogWriteEnd)
            watchdogWriteEnd = -1
        }
        if hasExited { return }
        if waitForExit(timeout: .seconds(5)) { return }
        if let pidFile, let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, SIGKILL)
        }
        kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(timeout: .seconds(2))
    }

    /// Whether this machine lets us create a private mount namespace (root, or user namespaces).
    static let canUnshareMount: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--mount", "--propagation", "private", "--", "/bin/true"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// Whether a pcscd already serves the standard socket (its pid file names a live process).
    static func hostPCSCDIsRunning() -> Bool {
        guard let text = try? String(contentsOfFile: "/run/pcscd/pcscd.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return false }
        return kill(pid, 0) == 0
    }
}
