import Foundation

extension DaemonRoute {
    /// Refuses a daemon that is not this user's before its client sends it anything, PINs included.
    ///
    /// cpsctl talks to cpsd through p11-kit-client.so, which opens its own connection and does not show
    /// it, so the check is made on a probe connection to the same path (SO_PEERCRED: the uid of the
    /// process that listens, recorded by the kernel, not claimed by the peer). That is enough only if
    /// the socket cannot be swapped between the probe and p11-kit's connection, which takes write access
    /// to the directory holding it: so that directory must not be writable by another user either
    /// (cpsd itself serves only from the user's own 0700 directory). Root talking to a root cpsd is fine.
    package func checkServerIsOurs(userID: UInt32 = UnixSocketProbe.userID) throws(DaemonRouteError) {
        guard let server = UnixSocketProbe.server(socketPath) else {
            throw DaemonRouteError(.notAnswering, "cpsd no longer answers at \(socketPath); nothing was sent.")
        }
        guard server.uid == userID else {
            throw DaemonRouteError(
                .foreignServer,
                "The process answering at \(socketPath) (pid \(server.pid)) runs as uid \(server.uid), not as you "
                    + "(uid \(userID)): cpsctl sends it nothing, no PIN. Stop that program, or point cpsctl at your "
                    + "own cpsd with --daemon-socket.")
        }
        let directory = (socketPath as NSString).deletingLastPathComponent
        guard let status = UnixSocketProbe.directoryStatus(directory.isEmpty ? "." : directory) else {
            throw DaemonRouteError(.unsafeDirectory, "cannot examine \(directory), the directory of cpsd's socket; nothing was sent.")
        }
        let othersMayWrite = status.mode & 0o022 != 0 && status.mode & 0o1000 == 0  // sticky: only owners remove
        guard status.isDirectory, !status.isSymbolicLink, status.owner == userID || status.owner == 0, !othersMayWrite
        else {
            throw DaemonRouteError(
                .unsafeDirectory,
                "\(directory), the directory of cpsd's socket, can be changed by another user (owner uid "
                    + "\(status.owner), mode 0\(String(status.mode, radix: 8))\(status.isSymbolicLink ? ", a symbolic link" : "")): "
                    + "cpsctl sends no PIN through it. cpsd's socket belongs in your own 0700 directory.")
        }
    }
}
