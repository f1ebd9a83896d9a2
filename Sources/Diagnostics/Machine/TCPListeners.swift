/// Who listens on a TCP port of the loopback or wildcard addresses, from /proc/net/tcp and tcp6 (the
/// same source as `ss -ltn`): the listening sockets' inodes and owners' uids, then /proc/*/fd for the
/// processes.
package struct TCPListeners {
    package struct Listener: Hashable {
        package let address: String
        package let inode: UInt64
        package let uid: UInt32
    }

    /// The sockets listening on `port` at 127.0.0.1, ::1, or a wildcard address (which takes the port on
    /// the loopback addresses too).
    package static func listening(on port: Int, files: any DiagFileSystem) -> [Listener] {
        var found: [Listener] = []
        for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
            guard let text = files.text(file) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                guard fields.count >= 10, fields[3] == "0A" else { continue }  // 0A: TCP_LISTEN
                let local = fields[1].split(separator: ":")
                guard local.count == 2, Int(local[1], radix: 16) == port,
                    let address = decodeAddress(String(local[0]), v6: v6),
                    ["127.0.0.1", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"].contains(address),
                    let uid = UInt32(fields[7]), let inode = UInt64(fields[9])
                else { continue }
                found.append(Listener(address: address, inode: inode, uid: uid))
            }
        }
        return found
    }

    /// /proc/net/tcp prints each 32-bit word of the address in host (little-endian) order.
    package static func decodeAddress(_ hex: String, v6: Bool) -> String? {
        guard hex.count == (v6 ? 32 : 8) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<next], radix: 16) else { return nil }
            bytes += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: word >> $0) }
            index = next
        }
        guard v6 else { return bytes.map(String.init).joined(separator: ".") }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "::ffff:" + bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        if groups.allSatisfy({ $0 == 0 }) { return "::" }
        if groups.dropLast().allSatisfy({ $0 == 0 }), groups[7] == 1 { return "::1" }
        return groups.map { String($0, radix: 16) }.joined(separator: ":")
    }
}
