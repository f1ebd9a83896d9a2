import Foundation
import SmartCardCore
import Testing

/// Secret memory is locked and kept out of core dumps page by page, counted: freeing one secret never
/// unlocks a page another secret still holds. Checked through the table and through the kernel's own
/// view of the mappings (/proc/self/smaps: `VmFlags` `lo` = mlocked, `dd` = MADV_DONTDUMP).
@Suite("SecretBytes memory: page locks counted per page")
struct SecretPageLocksTests {
    static let page = Int(SecretPageLocks.pageSize)

    /// `count` page-aligned pages of our own, that no other allocation of the process shares.
    static func withPages<R>(_ count: Int = 2, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: count * page, alignment: page)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: count * page)
        defer { memory.deallocate() }
        return try body(memory)
    }

    /// Whether mlock takes effect in this process, tried with mlock itself on a page of our own: the
    /// address sanitizer's runtime turns mlock and munlock into no-ops (and an unprivileged user may
    /// have RLIMIT_MEMLOCK 0). Where it does not, only the counts and MADV_DONTDUMP can be checked.
    static let mlockTakesEffect: Bool = withPages(1) { page in
        guard mlock(page, Self.page) == 0 else { return false }
        defer { munlock(page, Self.page) }
        let effective = MemoryMapping.containing(page)?.isLocked == true
        if !effective { print("mlock has no effect in this process (address sanitizer?): lock checks skipped") }
        return effective
    }

    /// Expects the page holding `address` to be mlocked (with `Locked:` above 0 kB) or not, per smaps.
    static func expectLocked(_ address: UnsafeRawPointer, _ locked: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        guard mlockTakesEffect else { return }
        let mapping = MemoryMapping.containing(address)
        #expect(mapping?.isLocked == locked, "\(mapping.map { "\($0)" } ?? "no mapping")", sourceLocation: sourceLocation)
        if locked { #expect((mapping?.lockedKilobytes ?? 0) > 0, sourceLocation: sourceLocation) }
    }

    @Test("two secrets on one page: freeing one leaves the page locked and out of dumps, freeing both releases it")
    func sharedPage() throws {
        let table = SecretPageLocks()
        try Self.withPages { base in
            table.retain(base + 100, count: 8)
            table.retain(base + 200, count: 8)
            #expect(table.count(atPageOf: base) == 2)
            Self.expectLocked(base, true)
            #expect(MemoryMapping.containing(base)?.isExcludedFromDumps == true)

            table.release(base + 100, count: 8)
            #expect(table.count(atPageOf: base) == 1)
            Self.expectLocked(base, true)  // the page of the live secret stays locked
            #expect(MemoryMapping.containing(base)?.isExcludedFromDumps == true)

            table.release(base + 200, count: 8)
            #expect(table.count(atPageOf: base) == 0)
            #expect(table.pageCount == 0)
            Self.expectLocked(base, false)
            #expect(MemoryMapping.containing(base)?.isExcludedFromDumps == false)
        }
    }

    @Test("a secret across a page boundary counts on both pages; each page is released with its last secret")
    func spanningSecret() throws {
        let table = SecretPageLocks()
        try Self.withPages { base in
            let second = base + Self.page
            table.retain(second - 4, count: 8)  // 4 bytes on each page
            table.retain(second + 64, count: 8)
            #expect(table.count(atPageOf: base) == 1)
            #expect(table.count(atPageOf: second) == 2)
            Self.expectLocked(base, true)

            table.release(second - 4, count: 8)
            #expect(table.count(atPageOf: base) == 0)
            #expect(table.count(atPageOf: second) == 1)
            Self.expectLocked(base, false)
            Self.expectLocked(second, true)
            #expect(MemoryMapping.containing(second)?.isExcludedFromDumps == true)

            table.release(second + 64, count: 8)
            #expect(table.pageCount == 0)
            Self.expectLocked(second, false)
        }
    }

    @Test("a release without a retain changes nothing: counts never go negative")
    func unbalancedRelease() throws {
        let table = SecretPageLocks()
        try Self.withPages(1) { base in
            table.release(base, count: 8)
            #expect(table.pageCount == 0)
            table.retain(base, count: 8)
            table.release(base, count: 8)
            table.release(base, count: 8)
            table.retain(base, count: 8)
            #expect(table.count(atPageOf: base) == 1)
            Self.expectLocked(base, true)
            table.release(base, count: 8)
            #expect(table.pageCount == 0)
        }
    }

    @Test("SecretBytes: of small secrets sharing a page, freeing one keeps that page locked for the other")
    func secretBytesSharePages() throws {
        // Small allocations come from the same pages: keep making secrets until two share one. Usually
        // a few do; under load other threads' frees can scatter malloc's free lists, so allow many (once
        // the free lists are used up, malloc carves consecutive chunks from fresh memory).
        var boxes: [SecretBox] = []
        var byPage: [UInt: [Int]] = [:]
        while boxes.count < 4096, !byPage.values.contains(where: { $0.count >= 2 }) {
            let box = SecretBox(SecretBytes(count: 8) { $0.initialize(repeating: 0x31) })
            byPage[box.address & ~(SecretPageLocks.pageSize - 1), default: []].append(boxes.count)
            boxes.append(box)
        }
        let (page, sharing) = try #require(byPage.first { $0.value.count >= 2 })
        let pageAddress = try #require(UnsafeRawPointer(bitPattern: page))
        #expect(SecretPageLocks.shared.count(atPageOf: pageAddress) >= 2)

        boxes[sharing[0]].secret = nil
        #expect(SecretPageLocks.shared.count(atPageOf: pageAddress) >= 1)
        Self.expectLocked(pageAddress, true)
        #expect(MemoryMapping.containing(pageAddress)?.isExcludedFromDumps == true)

        for box in boxes { box.secret = nil }
        // No other test of this target makes SecretBytes, so the shared table is back to nothing here.
        #expect(SecretPageLocks.shared.count(atPageOf: pageAddress) == 0)
        Self.expectLocked(pageAddress, false)
    }
}

/// A secret in a box, so that a test can hold several and free them one by one.
private final class SecretBox {
    var secret: SecretBytes?
    let address: UInt

    init(_ secret: consuming SecretBytes) {
        address = secret.withBytes { UInt(bitPattern: $0.baseAddress) }
        self.secret = consume secret
    }
}

/// One mapping of /proc/self/smaps: its range, `Locked:` size and `VmFlags`.
struct MemoryMapping: CustomStringConvertible {
    let range: Range<UInt>
    let lockedKilobytes: Int
    let flags: [String]

    var isLocked: Bool { flags.contains("lo") }
    var isExcludedFromDumps: Bool { flags.contains("dd") }
    var description: String {
        "\(String(range.lowerBound, radix: 16))-\(String(range.upperBound, radix: 16)) Locked \(lockedKilobytes) kB VmFlags \(flags.joined(separator: " "))"
    }

    /// The mapping holding `address` now, read from the kernel.
    static func containing(_ address: UnsafeRawPointer) -> MemoryMapping? {
        let target = UInt(bitPattern: address)
        // Read to the end: /proc files report a size of 0, which whole-file readers may believe.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/smaps")?.readDataToEndOfFile() else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        var current: Range<UInt>?
        var locked = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), !first.hasSuffix(":") {
                let bounds = first.split(separator: "-").compactMap { UInt($0, radix: 16) }
                current = bounds.count == 2 ? bounds[0]..<bounds[1] : nil
                locked = 0
            } else if first == "Locked:", fields.count > 1 {
                locked = Int(fields[1]) ?? 0
            } else if first == "VmFlags:", let range = current, range.contains(target) {
                return MemoryMapping(range: range, lockedKilobytes: locked, flags: fields.dropFirst().map(String.init))
            }
        }
        return nil
    }
}
