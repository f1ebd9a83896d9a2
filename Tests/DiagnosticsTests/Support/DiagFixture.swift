import CardIdentity
import Diagnostics
import Foundation
import PCSC
import SmartCardCore

/// One machine as diag sees it, made of fakes: user anne (uid 1000) at /home/anne, cpsctl as pid 4242,
/// pcscd's socket at the Debian default. Tests change the parts they look at, then make a runner.
struct DiagFixture {
    static let home = "/home/anne"
    static let userID: UInt32 = 1000
    static let daemonSocket = "/run/user/1000/p11-kit/pkcs11"
    static let pcscdSocket = "/run/pcscd/pcscd.comm"
    static let fixedNow = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09

    var variables = ["HOME": home, "USER": "anne", "XDG_RUNTIME_DIR": "/run/user/1000"]
    let files = FakeFileSystem()
    let programs = FakePrograms()
    let sockets = FakeSockets(userID: userID)
    var readers = FakeReaders()
    var bridge = FakeBridge()
    var options = DiagRunner.Options()

    var environment: DiagEnvironment {
        DiagEnvironment(
            variables: variables, files: files, programs: programs, sockets: sockets, readers: readers, bridge: bridge,
            processID: 4242)
    }

    func runner() -> DiagRunner {
        DiagRunner(options: options, environment: environment, trustStore: TrustStore(), now: Self.fixedNow)
    }

    /// A running process, as /proc shows it.
    func addProcess(_ pid: Int32, program: String, uid: UInt32 = userID, arguments: [String]? = nil, sockets inodes: [UInt64] = []) {
        files.link("/proc/\(pid)/exe", to: program)
        files.setOwner("/proc/\(pid)", uid: uid)
        let argv = arguments ?? [program]
        files.write("/proc/\(pid)/cmdline", bytes: argv.flatMap { Array($0.utf8) + [0] })
        for (index, inode) in inodes.enumerated() {
            files.link("/proc/\(pid)/fd/\(index + 3)", to: "socket:[\(inode)]")
        }
    }

    /// A socket listening on 127.0.0.1:`port`, in /proc/net/tcp's format.
    func addLoopbackListener(port: Int, uid: UInt32, inode: UInt64) {
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        let local = "0100007F:" + String(format: "%04X", port)
        let line = "   0: \(local) 00000000:0000 0A 00000000:00000000 00:00000000 00000000  \(uid)        0 \(inode) 1 0000000000000000 100 0 0 10 0\n"
        files.write("/proc/net/tcp", header + line)
    }
}
