import CardTestSupport
import Foundation
import Testing

/// cpsd keeps the PINs it holds out of core files and away from same-user debuggers (issue 10 item 7).
///
/// The tests run as root, and root reads any process's /proc entries whatever its dumpability. So
/// cpsd runs as another user (uid 65534, through `setpriv`), with its core limit raised first
/// (`ulimit -c unlimited`: this machine's soft limit is already 0, which would prove nothing). The
/// kernel then shows dumpability two ways: a non-dumpable process's /proc/PID files belong to root
/// instead of its own user, and a process of the same user without capabilities cannot read its
/// /proc/PID/environ (ptrace_may_access). A control process started the same way shows the opposite.
@Suite("cpsd hardening: no core dumps, not dumpable")
struct DaemonHardeningTests {
    static let uid: UInt32 = 65534

    /// As user 65534 with an unlimited core size: `as-user PROGRAM ARGS…`.
    static let asUser = """
        #!/bin/sh
        ulimit -c unlimited || exit 97
        exec /usr/bin/setpriv --reuid=\(uid) --regid=\(uid) --clear-groups -- "$@"
        """

    /// `as-user`, and a cpsd launcher for DaemonProcess (which passes `--socket PATH` first): the
    /// socket's directory is handed to the user first, as cpsd requires its own 0700 directory.
    static func scripts() throws -> (asUser: String, cpsd: String) {
        let directory = TestCards.temporaryDirectory("cpsd-hardening")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let asUser = directory.appendingPathComponent("as-user").path
        let cpsd = directory.appendingPathComponent("cpsd").path
        try Self.asUser.write(toFile: asUser, atomically: true, encoding: .utf8)
        let launcher = """
            #!/bin/sh
            dir=$(dirname "$2") && chown \(uid):\(uid) "$dir" && chmod 700 "$dir" || exit 96
            exec \(asUser) \(ToolRunner.executable("cpsd")) "$@"
            """
        try launcher.write(toFile: cpsd, atomically: true, encoding: .utf8)
        for path in [asUser, cpsd] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
        return (asUser, cpsd)
    }

    /// A HOME and XDG directories the user owns (cpsd must not meet root's).
    static func userEnvironment() throws -> [String: String] {
        let home = TestCards.temporaryDirectory("cpsd-hardening-home")
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o700, .ownerAccountID: uid, .groupOwnerAccountID: uid], ofItemAtPath: home.path)
        return [
            "HOME": home.path, "XDG_RUNTIME_DIR": home.path, "XDG_CONFIG_HOME": home.path + "/.config",
            "XDG_STATE_HOME": home.path + "/.local/state", "XDG_DATA_HOME": home.path + "/.local/share",
        ]
    }

    /// A /proc file of `pid`, read to the end (/proc files report a size of 0).
    static func procFile(_ pid: Int32, _ name: String) throws -> String {
        let data = try #require(FileHandle(forReadingAtPath: "/proc/\(pid)/\(name)")).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    /// The soft and hard "Max core file size" of /proc/PID/limits.
    static func coreLimits(_ pid: Int32) throws -> [String] {
        let limits = try procFile(pid, "limits")
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        return Array(line.dropFirst("Max core file size".count).split(separator: " ").prefix(2).map(String.init))
    }

    @Test("cpsd sets RLIMIT_CORE to 0 (soft and hard) and PR_SET_DUMPABLE 0 at start; a control started alike keeps both")
    func noCoreDumps() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let (asUser, cpsd) = try Self.scripts()
            let environment = try Self.userEnvironment()

            // The control: a process started the same way, seen by a same-user prober.
            let control = try ToolRunner.run("/bin/sh", [
                "-c", #"$0 /bin/sleep 10 >/dev/null 2>&1 & p=$!; sleep 0.3; stat -c 'owner=%u' /proc/$p/environ; "#
                    + #"grep 'Max core file size' /proc/$p/limits; $0 /bin/cat /proc/$p/environ >/dev/null && echo environ-readable; kill -KILL $p"#,
                asUser,
            ])
            #expect(control.stdout.contains("owner=\(Self.uid)"), "\(control.output)")
            #expect(control.stdout.contains("unlimited"), "the launcher did not raise the core limit: \(control.output)")
            #expect(control.stdout.contains("environ-readable"), "the probe cannot tell: \(control.output)")

            let daemon = try DaemonProcess(environment: stack.environment.merging(environment) { $1 }, executable: cpsd)
            defer { daemon.stop() }
            let status = try Self.procFile(daemon.pid, "status")
            #expect(status.contains("\nUid:\t\(Self.uid)\t"), "cpsd does not run as \(Self.uid): \(status)")
            let limits = try Self.coreLimits(daemon.pid)
            #expect(limits == ["0", "0"], "cpsd's core file size limits: \(limits)")
            let owner = try FileManager.default.attributesOfItem(atPath: "/proc/\(daemon.pid)/environ")[.ownerAccountID] as? NSNumber
            #expect(owner?.intValue == 0, "/proc/\(daemon.pid)/environ belongs to \(owner.map { "\($0)" } ?? "?"): cpsd is dumpable")
            let probe = try ToolRunner.run(asUser, ["/bin/cat", "/proc/\(daemon.pid)/environ"])
            #expect(probe.status != 0, "cpsd is dumpable: its environment was readable by its own user")
            #expect(probe.stderr.contains("Permission denied"), "\(probe.stderr)")  // never print stdout: it is the environment
            #expect(!daemon.log.contains("cpsd: warning:"), "\(daemon.logTail())")
            #expect(!daemon.hasExited, "\(daemon.logTail())")
        }
    }
}
