import Foundation

/// The processes connected to the pcscd that this run talks to. pcscd does not say who holds a reader,
/// so its clients are found from the sockets: pcscd's own (from /proc/PID/fd) are the server ends, and
/// `ss -xp` (iproute2) gives each Unix socket's peer and owner, hence the client processes. Several
/// pcscd may run on one machine (private stacks, terminal servers): only this one's clients are listed.
struct PCSCClients {
    /// The processes, this one excluded, and how they were found.
    let processes: [LocalProcess]
    let pcscd: LocalProcess?
    let method: String

    /// `socketPath`: pcscd's socket (PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm).
    static func find(socketPath: String) -> PCSCClients {
        let own = ProcessInfo.processInfo.processIdentifier
        let pcscd = pcscdProcess(socketPath: socketPath)
        guard let ss = DiagEnvironment.tool("ss"), let listing = DiagEnvironment.run(ss, ["-xpnH"]), listing.status == 0 else {
            return PCSCClients(processes: libraryUsers(excluding: own), pcscd: pcscd, method: "processes that loaded libpcsclite")
        }
        let rows = listing.output.split(separator: "\n").compactMap(UnixSocketRow.init)
        // The server ends: pcscd's descriptors when readable (root), else every socket bound to the
        // path pcscd bound (which then mixes several pcscd of the machine, if there are).
        var serverInodes = pcscd?.socketInodes ?? []
        if serverInodes.isEmpty {
            serverInodes = Set(rows.filter { [socketPath, "/run/pcscd/pcscd.comm"].contains($0.localPath) }.map(\.localInode))
        }
        var pids: Set<Int32> = []
        for row in rows where serverInodes.contains(row.peerInode) { pids.formUnion(row.pids) }
        pids.remove(own)
        if let pcscd { pids.remove(pcscd.pid) }
        return PCSCClients(processes: pids.sorted().map(LocalProcess.init(pid:)), pcscd: pcscd, method: "connections to pcscd")
    }

    /// pcscd's process: from the pid file next to its socket (pcscd writes /run/pcscd/pcscd.pid), else
    /// from the socket's peer credentials. Only a process named pcscd counts.
    private static func pcscdProcess(socketPath: String) -> LocalProcess? {
        let pidFile = (socketPath as NSString).deletingLastPathComponent + "/pcscd.pid"
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), LocalProcess(pid: pid).name == "pcscd"
        {
            return LocalProcess(pid: pid)
        }
        return UnixSocketProbe.serverPID(socketPath).map(LocalProcess.init(pid:)).flatMap { $0.name == "pcscd" ? $0 : nil }
    }

    /// Without ss: every process that mapped libpcsclite (it may talk to another pcscd).
    private static func libraryUsers(excluding own: Int32) -> [LocalProcess] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        return pids.sorted().filter { pid in
            pid != own && (try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8))?.contains("libpcsclite.so") == true
        }.map(LocalProcess.init(pid:))
    }
}

/// One line of `ss -xpnH`: `u_str ESTAB 0 0 LOCAL_PATH|* LOCAL_INODE PEER_PATH|* PEER_INODE users:((…))`.
struct UnixSocketRow {
    let localPath: String
    let localInode: UInt64
    let peerInode: UInt64
    let pids: [Int32]

    init?(_ line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 8, let local = UInt64(fields[5]), let peer = UInt64(fields[7]) else { return nil }
        localPath = String(fields[4])
        localInode = local
        peerInode = peer
        let users = fields.dropFirst(8).joined(separator: " ")
        pids = users.components(separatedBy: "pid=").dropFirst().compactMap { Int32($0.prefix { $0.isNumber }) }
    }
}
