#if canImport(Glibc)
import ErrorShape
import Glibc
#endif

/// Keeps a process that holds PINs from writing them anywhere on a crash or to a debugger of the same
/// user: no core file (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0, which also closes
/// /proc/PID/mem, environ and ptrace to same-uid processes without CAP_SYS_PTRACE).
///
/// Here, next to ``SecretBytes``, because it protects the same bytes; any program that holds a PIN
/// (cpsd, and later cpsctl) can call it. Called before any PIN can arrive; it only takes away.
package enum ProcessHardening {
    /// What could not be done, for the caller's log (the process keeps running either way).
    package struct Failure: CodedError {
        package enum Code: String, ErrorCode {
            /// A call that keeps core dumps away failed.
            case coreDumpsPossible = "core dumps possible"
        }
        package let code: Code
        package let call: String
        package let errno: Int32
        package var reason: String { "\(call) failed (errno \(errno))" }

        init(_ code: Code, call: String, errno: Int32) {
            self.code = code
            self.call = call
            self.errno = errno
        }

        package var description: String { "\(reason): a crash could leave a PIN in a core file" }
    }

    /// Disables core dumps of this process. Returns the calls that failed (empty when all worked).
    @discardableResult
    package static func disableCoreDumps() -> [Failure] {
        var failures: [Failure] = []
        #if canImport(Glibc)
        // Soft and hard limit: a hard limit of 0 cannot be raised again without CAP_SYS_RESOURCE.
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        if setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) != 0 {
            failures.append(Failure(.coreDumpsPossible, call: "setrlimit(RLIMIT_CORE, 0)", errno: errno))
        }
        if Prctl.call(Prctl.setDumpable, 0) != 0 {
            failures.append(Failure(.coreDumpsPossible, call: "prctl(PR_SET_DUMPABLE, 0)", errno: errno))
        }
        #endif
        return failures
    }

    /// True when this process may be dumped (PR_GET_DUMPABLE), nil when that cannot be asked.
    package static var isDumpable: Bool? {
        #if canImport(Glibc)
        let answer = Prctl.call(Prctl.getDumpable, 0)
        return answer < 0 ? nil : answer != 0
        #else
        return nil
        #endif
    }
}

#if canImport(Glibc)
/// prctl(2), reached through dlsym: Swift's Glibc module neither includes <sys/prctl.h> nor imports
/// variadic C functions. glibc's prctl reads its four optional arguments as unsigned longs, which the
/// x86-64 and AArch64 Linux ABIs pass in the same registers for a fixed-arity call.
private enum Prctl {
    static let getDumpable: Int32 = 3  // PR_GET_DUMPABLE, <linux/prctl.h>
    static let setDumpable: Int32 = 4  // PR_SET_DUMPABLE

    typealias Function = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

    static func call(_ option: Int32, _ argument: UInt) -> Int32 {
        guard let symbol = dlsym(nil, "prctl") else {  // nil is glibc's RTLD_DEFAULT
            errno = ENOSYS
            return -1
        }
        return unsafeBitCast(symbol, to: Function.self)(option, argument, 0, 0, 0)
    }
}
#endif
