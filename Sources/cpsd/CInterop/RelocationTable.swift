import Foundation
import Glibc

/// cpsd's relocation table (`.rela.dyn`, 2.7 MB in the static release build: one entry per absolute
/// address in the binary) is read once, by the dynamic loader, before `main`; nothing reads it again
/// (lazy binding uses `.rela.plt`). Its pages stay mapped from the page cache and count in cpsd's
/// resident memory for the whole session unless the kernel is told they are no longer needed.
enum RelocationTable {
    /// Gives the table's whole pages back to the kernel (`MADV_DONTNEED`: they are file-backed and
    /// read-only, so nothing is lost; a later read would fault them in again). Returns the bytes released.
    @discardableResult
    static func release() -> Int {
        guard let (start, length) = wholePages() else { return 0 }
        return madvise(UnsafeMutableRawPointer(bitPattern: start), length, MADV_DONTNEED) == 0 ? length : 0
    }

    /// The whole pages of the main program's DT_RELA table, found from its program headers (the kernel
    /// gives their address in the auxiliary vector) and its dynamic section.
    static func wholePages() -> (start: UInt, length: Int)? {
        guard let auxv = FileManager.default.contents(atPath: "/proc/self/auxv") else { return nil }
        var vector: [UInt64: UInt64] = [:]
        auxv.withUnsafeBytes { raw in
            for index in stride(from: 0, to: raw.count - 15, by: 16) {
                vector[raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)] =
                    raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
            }
        }
        guard let address = vector[UInt64(AT_PHDR)], let count = vector[UInt64(AT_PHNUM)],
            let first = UnsafePointer<Elf64_Phdr>(bitPattern: UInt(address))
        else { return nil }
        let headers = UnsafeBufferPointer(start: first, count: Int(count))
        guard let programHeaders = headers.first(where: { $0.p_type == UInt32(PT_PHDR) }),
            let dynamicHeader = headers.first(where: { $0.p_type == UInt32(PT_DYNAMIC) })
        else { return nil }
        let base = UInt(address) &- UInt(programHeaders.p_vaddr)
        guard var entry = UnsafePointer<Elf64_Dyn>(bitPattern: base &+ UInt(dynamicHeader.p_vaddr)) else { return nil }
        var (table, size): (UInt, UInt) = (0, 0)
        while entry.pointee.d_tag != Int64(DT_NULL) {
            if entry.pointee.d_tag == Int64(DT_RELA) { table = UInt(entry.pointee.d_un.d_ptr) }
            if entry.pointee.d_tag == Int64(DT_RELASZ) { size = UInt(entry.pointee.d_un.d_val) }
            entry += 1
        }
        // glibc rewrites the main program's DT_RELA to an absolute address; another loader may not.
        if table != 0, table < base { table &+= base }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let start = (table + page - 1) & ~(page - 1)
        let end = (table + size) & ~(page - 1)
        guard table != 0, end > start else { return nil }
        return (start, Int(end - start))
    }
}
