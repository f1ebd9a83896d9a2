import Foundation
import P11KitClient

/// The processes connected to the pcscd that this run talks to. pcscd does not say who holds a reader,
/// so its clients are found from the sockets: pcscd's own (from /proc/PID/fd) are the server ends, and
/// `ss -xp` (iproute2) gives each Unix socket's peer and owner, hence the client processes. Several
/// pcscd may run on one machine (private stacks, terminal servers): only this one's clients are listed.
package struct PCSCClients {
    /// The processes, this one excluded, and how they were found.
    package let processes: [LocalProcess]
    package let pcscd: LocalProcess?
    package let method: String

    /// `socketPath`: pcscd's socket (PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm).
    static func find(socketPath: String, in environment: DiagEnvironment) -> PCSCClients {
        let own = environment.processID
        let table = environment.processes
        let pcscd = pcscdProcess(socketPath: socketPath, in: environment)
        guard let ss = environment.tool("ss"), let listing = environment.run(ss, ["-xpnH"]), listing.status == 0 else {
            return PCSCClients(
                processes: libraryUsers(excluding: own, in: environment), pcscd: pcscd, method: "processes that loaded libpcsclite")
        }
        let rows = listing.output.split(separator: "\n").compactMap(UnixSocketRow.init)
        // The server ends: pcscd's descriptors when readable (root), else every socket bound to the
        // path pcscd bound (which then mixes several pcscd of the machine, if there are).
        var serverInodes = pcscd.map { table.socketInodes(of: $0.pid) } ?? []
        if serverInodes.isEmpty {
            serverInodes = Set(rows.filter { [socketPath, "/run/pcscd/pcscd.comm"].contains($0.localPath) }.map(\.localInode))
        }
        var pids: Set<Int32> = []
        for row in rows where serverInodes.contains(row.peerInode) { pids.formUnion(row.pids) }
        pids.remove(own)
        if let pcscd { pids.remove(pcscd.pid) }
        return PCSCClients(processes: pids.sorted().map(table.process), pcscd: pcscd, method: "connections to pcscd")
    }

    /// pcscd's process: from the pid file next to its socket (pcscd writes /run/pcscd/pcscd.pid), else
    /// from the socket's peer credentials. Only a process named pcscd counts.
    private static func pcscdProcess(socketPath: String, in environment: DiagEnvironment) -> LocalProcess? {
        let table = environment.processes
        let pidFile = (socketPath as NSString).deletingLastPathComponent + "/pcscd.pid"
        if let text = environment.files.text(pidFile),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), table.process(pid).name == "pcscd"
        {
            return table.process(pid)
        }
        return environment.sockets.server(socketPath).map { table.process($0.pid) }.flatMap { $0.name == "pcscd" ? $0 : nil }
    }

    /// Without ss: every process that mapped libpcsclite (it may talk to another pcscd).
    private static func libraryUsers(excluding own: Int32, in environment: DiagEnvironment) -> [LocalProcess] {
        let table = environment.processes
        return table.allPIDs().filter { pid in
            pid != own && environment.files.text("/proc/\(pid)/maps")?.contains("libpcsclite.so") == true
        }.map(table.process)
    }
}
