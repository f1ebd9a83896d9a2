import Foundation

/// One line of `ss -xpnH`: `u_str ESTAB 0 0 LOCAL_PATH|* LOCAL_INODE PEER_PATH|* PEER_INODE users:((…))`.
struct UnixSocketRow {
    let localPath: String
    let localInode: UInt64
    let peerInode: UInt64
    let pids: [Int32]

    init?(_ line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 8, let local = UInt64(fields[5]), let peer = UInt64(fields[7]) else { return nil }
        localPath = String(fields[4])
        localInode = local
        peerInode = peer
        let users = fields.dropFirst(8).joined(separator: " ")
        pids = users.components(separatedBy: "pid=").dropFirst().compactMap { Int32($0.prefix { $0.isNumber }) }
    }
}
