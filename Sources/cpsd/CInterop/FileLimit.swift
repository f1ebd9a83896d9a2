import Glibc

/// RLIMIT_NOFILE. Every PKCS#11 client and every bridge connection costs cpsd a descriptor, and the
/// usual soft limit (1024) is far below the hard one: raising it at start makes running out unlikely
/// (running out is survived anyway: the accept loops back off and retry).
enum FileLimit {
    struct Change: Equatable {
        let softBefore: UInt64
        let softAfter: UInt64
        let hard: UInt64
    }

    /// Raises the soft limit to the hard limit. Nil when the limit cannot be read or the hard limit is
    /// "unlimited" (the kernel refuses that for descriptors; the soft limit is left as it is).
    static func raiseSoftToHard() -> Change? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_max != rlim_t.max  // RLIM_INFINITY
        else { return nil }
        let before = UInt64(limit.rlim_cur)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        var now = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &now) == 0 else { return nil }
        return Change(softBefore: before, softAfter: UInt64(now.rlim_cur), hard: UInt64(now.rlim_max))
    }
}
