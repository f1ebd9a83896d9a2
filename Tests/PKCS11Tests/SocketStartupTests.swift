import CardTestSupport
import Foundation
import Glibc
import P11KitServer
import Testing

/// The accept loop's back-off policy (pure state), and what cpsd checks before it touches its socket
/// path: the directory it lives in, and the one-daemon-per-socket lock.
@Suite("PKCS#11 socket start-up and accept back-off")
struct SocketStartupTests {
    @Test("accept failures wait 10 ms doubling to 1 s, log once per episode, and start over after a success")
    func backoffDoublesCapsAndResets() {
        var backoff = AcceptBackoff()
        let steps = (0..<9).map { _ in backoff.failed() }
        #expect(steps.map(\.delay) == [10, 20, 40, 80, 160, 320, 640, 1000, 1000].map { Duration.milliseconds($0) })
        #expect(steps.map(\.startsEpisode) == [true] + Array(repeating: false, count: 8))
        #expect(backoff.succeeded() == 9, "the success ends an episode of 9 failures")
        #expect(backoff.succeeded() == 0, "a second success is no episode")
        let again = backoff.failed()
        #expect(again == AcceptBackoff.Step(delay: .milliseconds(10), startsEpisode: true))
    }

    @Test("the back-off bounds are the caller's")
    func customBounds() {
        var backoff = AcceptBackoff(initial: .milliseconds(300), maximum: .milliseconds(500))
        #expect([backoff.failed(), backoff.failed(), backoff.failed()].map(\.delay)
            == [.milliseconds(300), .milliseconds(500), .milliseconds(500)])
    }

    @Test("the socket's directory: only the user's own 0700 directory is accepted, named in the refusal")
    func socketDirectory() throws {
        let base = TestCards.temporaryDirectory("cpsd-sockdir")
        defer { try? FileManager.default.removeItem(at: base) }
        let own = base.appendingPathComponent("own").path
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try SocketDirectory.check(socketPath: own + "/pkcs11")

        let open = base.appendingPathComponent("open").path
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        // Errors compare by code: the directory and what was found are checked beside it.
        let openError = #expect(throws: SocketDirectoryError(.openToOthers, directory: open)) {
            try SocketDirectory.check(socketPath: open + "/pkcs11")
        }
        #expect(openError?.directory == open && openError?.detail == .mode(0o755))
        let link = base.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: own)
        let linkError = #expect(throws: SocketDirectoryError(.symbolicLink, directory: link)) {
            try SocketDirectory.check(socketPath: link + "/pkcs11")
        }
        #expect(linkError?.directory == link)
        let foreign = base.appendingPathComponent("foreign").path
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        if getuid() == 0 {  // only root can give a directory away
            #expect(chown(foreign, 65534, 65534) == 0)
            let foreignError = #expect(throws: SocketDirectoryError(.ownedByAnother, directory: foreign)) {
                try SocketDirectory.check(socketPath: foreign + "/pkcs11")
            }
            #expect(foreignError?.directory == foreign && foreignError?.detail == .owner(65534, user: 0))
        }
        #expect(SocketDirectory.directory(of: "pkcs11") == ".")
        #expect(SocketDirectory.directory(of: "/pkcs11") == "/")
        #expect(SocketDirectory.directory(of: "/run/user/1000/p11-kit/pkcs11") == "/run/user/1000/p11-kit")
    }

    @Test("the instance lock: a second holder is refused with the first one's pid, and it is free again after")
    func instanceLock() throws {
        let directory = TestCards.temporaryDirectory("cpsd-lock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("pkcs11").path
        var first: InstanceLock? = try InstanceLock.acquire(socketPath: socketPath)
        #expect(first?.path == socketPath + ".lock")
        let written = try String(contentsOfFile: socketPath + ".lock", encoding: .utf8)
        #expect(written == "\(getpid())\n")
        // flock locks belong to the open file description: a second open() in the same process conflicts
        // exactly as another process's would.
        let held = #expect(throws: InstanceLockError(.heldByAnother, path: socketPath + ".lock")) {
            _ = try InstanceLock.acquire(socketPath: socketPath)
        }
        #expect(held?.path == socketPath + ".lock" && held?.pid == getpid())
        #expect(!FileManager.default.fileExists(atPath: socketPath), "the socket path is not touched")
        first = nil
        // Another test of this process spawning a child between its fork and exec briefly holds a copy of
        // every descriptor, close-on-exec or not, and with it the flock: give such a window time to close.
        var second: InstanceLock?
        for _ in 0..<100 where second == nil {
            second = try? InstanceLock.acquire(socketPath: socketPath)
            if second == nil { usleep(20_000) }
        }
        #expect(second?.path == socketPath + ".lock")
    }
}
