#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Which memory pages hold secrets, counted, so that locking follows the last secret on a page.
///
/// mlock and madvise work on whole pages, and small secrets share pages (with each other and with
/// ordinary heap data). Unlocking a secret's range when it dies would unlock a page another live
/// secret still sits on: that PIN could then be swapped out. So a page is mlocked and marked
/// MADV_DONTDUMP when the first secret touches it, and munlocked and given back to core dumps
/// (MADV_DODUMP) only when the last one is gone; a secret spanning two pages counts on both.
///
/// Why MADV_DODUMP at zero rather than leaving the mark: each madvise/mlock splits the heap's mapping
/// at page boundaries, and only restoring the page's original flags lets the kernel merge the pieces
/// back. Leaving marks would grow the process's mapping count with every secret on a new page
/// (vm.max_map_count is finite) and hide ordinary heap pages from crash dumps for nothing; the page
/// holds no secret any more (SecretBytes zeroes its bytes before releasing them).
///
/// The system calls are made under the table's lock: if they were made after it, one thread could
/// munlock a page that another thread had just counted and locked again.
package final class SecretPageLocks: Sendable {
    /// The process's table, used by every ``SecretBytes``.
    package static let shared = SecretPageLocks()

    package static let pageSize: UInt = {
        #if canImport(Glibc)
        return UInt(sysconf(Int32(_SC_PAGESIZE)))
        #else
        return 4096
        #endif
    }()

    /// Page address → number of live secrets touching it.
    private let counts = Mutex<[UInt: Int]>([:])

    /// A table of its own (tests use one on memory nobody else touches); the daemon uses ``shared``.
    package init() {}

    /// Counts one more secret on every page of `start ..< start + count` (at least one byte), and
    /// locks and marks the pages it is the first on. Best effort: RLIMIT_MEMLOCK may refuse mlock,
    /// and the secret is still counted, so that release stays symmetric.
    package func retain(_ start: UnsafeRawPointer, count: Int) {
        counts.withLock { table in
            for page in Self.pages(start, count) {
                let previous = table[page, default: 0]
                table[page] = previous + 1
                if previous == 0 { Self.protect(page) }
            }
        }
    }

    /// Counts one secret fewer on every page of the range, unlocking and unmarking the pages no
    /// secret touches any more.
    package func release(_ start: UnsafeRawPointer, count: Int) {
        counts.withLock { table in
            for page in Self.pages(start, count) {
                guard let previous = table[page] else { continue }  // never retained: nothing to undo
                if previous <= 1 {
                    table[page] = nil
                    Self.unprotect(page)
                } else {
                    table[page] = previous - 1
                }
            }
        }
    }

    /// How many live secrets touch the page holding `address` (0 when none).
    package func count(atPageOf address: UnsafeRawPointer) -> Int {
        let page = UInt(bitPattern: address) & ~(Self.pageSize - 1)
        return counts.withLock { $0[page, default: 0] }
    }

    /// How many pages hold at least one secret.
    package var pageCount: Int { counts.withLock { $0.count } }

    /// The page addresses a range touches, first to last.
    package static func pages(_ start: UnsafeRawPointer, _ count: Int) -> StrideThrough<UInt> {
        let first = UInt(bitPattern: start) & ~(pageSize - 1)
        let last = (UInt(bitPattern: start) + UInt(max(count, 1)) - 1) & ~(pageSize - 1)
        return stride(from: first, through: last, by: Int(pageSize))
    }

    private static func protect(_ page: UInt) {
        #if canImport(Glibc)
        guard let address = UnsafeMutableRawPointer(bitPattern: page) else { return }
        _ = mlock(address, Int(pageSize))
        _ = madvise(address, Int(pageSize), MADV_DONTDUMP)
        #endif
    }

    private static func unprotect(_ page: UInt) {
        #if canImport(Glibc)
        guard let address = UnsafeMutableRawPointer(bitPattern: page) else { return }
        _ = munlock(address, Int(pageSize))
        _ = madvise(address, Int(pageSize), MADV_DODUMP)
        #endif
    }
}
