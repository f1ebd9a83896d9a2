import Glibc

/// systemd socket activation (sd_listen_fds(3)): the listening socket arrives as fd 3 when
/// LISTEN_PID names this process and LISTEN_FDS ≥ 1. The variables are unset afterwards so children
/// do not inherit the claim.
enum SystemdActivation {
    static let firstDescriptor: Int32 = 3

    static func inheritedListener() -> Int32? {
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), let pid = Int32(pidText),
            pid == getpid(), let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }),
            let count = Int(countText), count >= 1
        else { return nil }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        _ = fcntl(firstDescriptor, F_SETFD, FD_CLOEXEC)
        let flags = fcntl(firstDescriptor, F_GETFL)
        if flags & O_NONBLOCK != 0 { _ = fcntl(firstDescriptor, F_SETFL, flags & ~O_NONBLOCK) }
        return firstDescriptor
    }
}
