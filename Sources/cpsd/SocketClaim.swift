import ArgumentParser
import Logging
import P11KitServer

/// Makes the socket path this process's to use, before anything touches it (remove a stale socket,
/// bind, or accept one systemd passed): its directory must be the user's own, and the instance lock
/// next to it must be free. Under socket activation too: systemd made the socket, but a cpsd started by
/// hand on the same path must still not serve next to the activated one.
enum SocketClaim {
    static func claim(socketPath: String, logger: Logger) throws -> InstanceLock {
        do {
            try SocketDirectory.check(socketPath: socketPath)
        } catch {
            logger.critical("refusing to start: \(error)")
            throw ExitCode(StartFailure.unsafeDirectory)
        }
        do {
            let lock = try InstanceLock.acquire(socketPath: socketPath)
            logger.debug("instance lock taken", metadata: ["lock": "\(lock.path)"])
            return lock
        } catch {
            logger.critical("not starting: \(error)")
            if case .heldByAnother = error.code { throw ExitCode(StartFailure.alreadyRunning) }
            throw ExitCode(1)
        }
    }

    /// Raises RLIMIT_NOFILE's soft limit to the hard one and logs both.
    static func raiseFileLimit(logger: Logger) {
        guard let change = FileLimit.raiseSoftToHard() else {
            logger.warning("file descriptor limit not raised (unreadable or unlimited)")
            return
        }
        logger.info("file descriptor limit", metadata: [
            "soft_before": "\(change.softBefore)", "soft": "\(change.softAfter)", "hard": "\(change.hard)",
        ])
    }
}
