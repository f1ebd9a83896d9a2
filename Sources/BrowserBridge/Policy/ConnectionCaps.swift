/// How many connections the bridge holds at once: in total, and per peer (the uid owning the client
/// socket). Each held connection is a file descriptor of cpsd, shared with the PKCS#11 socket's
/// clients; the caps keep a flood of idle connections from taking them all (under `ulimit -n 64` too).
/// Pure; `ConnectionBook` shares it between threads.
package struct ConnectionCaps: Sendable {
    package enum Admission: Equatable, Sendable {
        case admitted
        case totalFull
        case peerFull
    }

    package static let defaultTotal = 32
    /// Browsers open up to 6 connections per host, two browsers 12; more from one uid is a runaway.
    package static let defaultPerPeer = 16

    package let total: Int
    package let perPeer: Int
    package private(set) var open = 0
    private var byPeer: [UInt32: Int] = [:]

    package init(total: Int = ConnectionCaps.defaultTotal, perPeer: Int = ConnectionCaps.defaultPerPeer) {
        self.total = total
        self.perPeer = perPeer
    }

    /// True when no connection may be added whoever asks: checked before the peer lookup, so a full
    /// bridge refuses without reading /proc.
    package var isFull: Bool { open >= total }

    package func count(of peer: UInt32) -> Int { byPeer[peer] ?? 0 }

    /// Holds one more connection of `peer`, or says which cap refuses it.
    package mutating func admit(peer: UInt32) -> Admission {
        guard open < total else { return .totalFull }
        let held = byPeer[peer] ?? 0
        guard held < perPeer else { return .peerFull }
        open += 1
        byPeer[peer] = held + 1
        return .admitted
    }

    /// A held connection of `peer` closed.
    package mutating func release(peer: UInt32) {
        guard let held = byPeer[peer] else { return }
        open -= 1
        byPeer[peer] = held > 1 ? held - 1 : nil
    }
}
