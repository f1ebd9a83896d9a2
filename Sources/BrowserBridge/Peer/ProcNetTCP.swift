/// One end of a TCP connection as the bridge compares them: the address always in its 16-byte IPv6
/// form (an IPv4 address as `::ffff:a.b.c.d`), so a client socket listed in /proc/net/tcp6 as an
/// IPv4-mapped address matches a connection the bridge accepted on 127.0.0.1.
package struct TCPEndpoint: Hashable, Sendable, CustomStringConvertible {
    package var address: [UInt8]
    package var port: Int

    /// `bytes` is 4 (IPv4) or 16 (IPv6) bytes in network order; anything else is nil.
    package init?(bytes: [UInt8], port: Int) {
        switch bytes.count {
        case 4: address = Array(repeating: 0, count: 10) + [0xFF, 0xFF] + bytes
        case 16: address = bytes
        default: return nil
        }
        self.port = port
    }

    /// An IPv4 address, or an IPv6 address that carries one (`::ffff:a.b.c.d`).
    package var isIPv4: Bool { address.prefix(12) == Self.mappedPrefix[...] }

    package var description: String {
        if isIPv4 { return address.suffix(4).map(String.init).joined(separator: ".") + ":\(port)" }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
        return "[\(groups.joined(separator: ":"))]:\(port)"
    }

    private static let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
}

/// A socket as /proc/net/tcp and /proc/net/tcp6 list it (the kernel's `tcp4_seq_show` and
/// `tcp6_seq_show`): its two ends, the uid owning it and its inode.
package struct ProcNetTCPEntry: Hashable, Sendable {
    package var local: TCPEndpoint
    package var remote: TCPEndpoint
    package var uid: UInt32
    package var inode: UInt64
}

/// The parser of /proc/net/tcp{,6}. Pure, so each format detail is a unit test.
///
/// A line: `  1: 0100007F:8E8B 0100007F:8E8C 01 00000000:00000000 00:00000000 00000000  1000  0 41736 …`
/// (`sl`, local, remote, state, queues, timer, retransmits, uid, timeout, inode). The kernel prints
/// each address as 32-bit words in `%08X`, each word read from memory in the host's byte order (an
/// IPv4 address one word, an IPv6 address four), and the port with `ntohs`, so a plain number.
package enum ProcNetTCP {
    /// Every socket line of a table; the header and malformed lines are skipped.
    package static func parse(table: String) -> [ProcNetTCPEntry] {
        table.split(separator: "\n").compactMap { parse(line: $0) }
    }

    /// The socket whose local end is `local` and remote end `remote`, if listed.
    package static func find(in table: String, local: TCPEndpoint, remote: TCPEndpoint) -> ProcNetTCPEntry? {
        for line in table.split(separator: "\n") {
            if let entry = parse(line: line), entry.local == local, entry.remote == remote { return entry }
        }
        return nil
    }

    package static func parse(line: Substring) -> ProcNetTCPEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 10, fields[0].hasSuffix(":"),
            let local = endpoint(fields[1]), let remote = endpoint(fields[2]),
            let uid = UInt32(fields[7]), let inode = UInt64(fields[9])
        else { return nil }
        return ProcNetTCPEntry(local: local, remote: remote, uid: uid, inode: inode)
    }

    /// `0100007F:8E8B` → 127.0.0.1:36491; `00000000000000000000000001000000:8E8B` → [::1]:36491.
    static func endpoint(_ field: Substring) -> TCPEndpoint? {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1], radix: 16), port <= 0xFFFF,
            parts[0].count == 8 || parts[0].count == 32
        else { return nil }
        let hex = Array(parts[0])
        var bytes: [UInt8] = []
        for start in stride(from: 0, to: hex.count, by: 8) {
            guard let word = UInt32(String(hex[start..<start + 8]), radix: 16) else { return nil }
            // The word's bytes as they were in memory: `littleEndian` undoes the host order, so this
            // holds on big-endian hosts too.
            let stored = word.littleEndian
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: stored >> (8 * $0)) }
        }
        return TCPEndpoint(bytes: bytes, port: port)
    }
}
