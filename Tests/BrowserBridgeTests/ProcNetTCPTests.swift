import BrowserBridge
import Foundation
import Testing

/// The /proc/net/tcp{,6} parser, on lines as the kernel prints them (taken from a Linux host).
@Suite("Bridge peer: /proc/net/tcp parser (pure)")
struct ProcNetTCPTests {
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:8E8B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 28936 1 00000000c52c373d 100 0 0 10 0
           1: 0100007F:C350 0100007F:8E8B 01 00000000:00000000 00:00000000 00000000  1000        0 67437 2 000000004439e375 20 0 0 10 -1
           2: 0100007F:8E8B 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 67438 1 00000000f2fc295c 20 0 0 10 -1
           3: 0202A8C0:D431 5DB8D822:01BB 01 00000000:00000000 02:000A7D4B 00000000  1000        0 71234 2 0000000000000000 20 4 30 10 -1
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000001000000:8E8B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 28937 1 0000000000000000 100 0 0 10 0
           1: 00000000000000000000000001000000:D1B5 00000000000000000000000001000000:8E8B 01 00000000:00000000 00:00000000 00000000 65534        0 80001 2 0000000000000000 20 0 0 10 -1
           2: 0000000000000000FFFF00000100007F:CFC6 0000000000000000FFFF00000100007F:8E8B 01 00000000:00000000 00:00000000 00000000  1001        0 80002 2 0000000000000000 20 0 0 10 -1
        """

    static func v4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: Int) -> TCPEndpoint {
        TCPEndpoint(bytes: [a, b, c, d], port: port)!
    }

    static func loopback6(port: Int) -> TCPEndpoint {
        TCPEndpoint(bytes: Array(repeating: 0, count: 15) + [1], port: port)!
    }

    @Test("IPv4: the address is one host-order word, the port a plain hex number; header line skipped")
    func ipv4() throws {
        let entries = ProcNetTCP.parse(table: Self.tcp)
        #expect(entries.count == 4)
        let client = try #require(entries.first { $0.inode == 67437 })
        #expect(client.local == Self.v4(127, 0, 0, 1, port: 50000))
        #expect(client.remote == Self.v4(127, 0, 0, 1, port: 36491))
        #expect(client.uid == 1000)
        #expect(entries[3].local == Self.v4(192, 168, 2, 2, port: 54321))
        #expect(entries[3].remote == Self.v4(34, 216, 184, 93, port: 443))
        #expect(entries[3].local.description == "192.168.2.2:54321")
    }

    @Test("IPv6: four host-order words; ::1 and an IPv4-mapped address equal to its IPv4 form")
    func ipv6() throws {
        let entries = ProcNetTCP.parse(table: Self.tcp6)
        #expect(entries.count == 3)
        #expect(entries[1].local == Self.loopback6(port: 53685))
        #expect(entries[1].remote == Self.loopback6(port: 36491))
        #expect(entries[1].uid == 65534 && entries[1].inode == 80001)
        #expect(!entries[1].local.isIPv4)
        #expect(entries[1].local.description == "[0:0:0:0:0:0:0:1]:53685")
        #expect(entries[2].local == Self.v4(127, 0, 0, 1, port: 53190), "::ffff:127.0.0.1 is 127.0.0.1")
        #expect(entries[2].local.isIPv4)
        #expect(entries[2].uid == 1001)
    }

    @Test("find matches both ends: the client's socket, never the server's own accepted socket")
    func find() {
        let client = Self.v4(127, 0, 0, 1, port: 50000)
        let server = Self.v4(127, 0, 0, 1, port: 36491)
        let found = ProcNetTCP.find(in: Self.tcp, local: client, remote: server)
        #expect(found?.uid == 1000 && found?.inode == 67437)
        let reversed = ProcNetTCP.find(in: Self.tcp, local: server, remote: client)
        #expect(reversed?.inode == 67438, "the other end is the server's socket")
        #expect(ProcNetTCP.find(in: Self.tcp, local: client, remote: Self.v4(127, 0, 0, 1, port: 1)) == nil)
        let mapped = ProcNetTCP.find(in: Self.tcp6, local: Self.v4(127, 0, 0, 1, port: 53190), remote: server)
        #expect(mapped?.uid == 1001, "an IPv4 client on a dual-stack socket is found in tcp6")
    }

    @Test("malformed lines are skipped, never trusted")
    func malformed() {
        let lines = [
            "   0: 0100007F:8E8B",  // truncated
            "   0: 0100007G:8E8B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",  // not hex
            "   0: 0100007F:18E8B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",  // port > 16 bits
            "   0: 0100007F00:8E8B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",  // 10 hex digits
            "   0: 0100007F:8E8B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 -1 0 1 1",  // negative uid
            "0100007F:8E8B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 extra",  // no "sl:"
        ]
        for line in lines { #expect(ProcNetTCP.parse(line: line[...]) == nil, "\(line)") }
        #expect(ProcNetTCP.parse(table: lines.joined(separator: "\n")).isEmpty)
    }

    @Test("the reader: an unknown socket is notFound; a missing table is unreadable, never a pass")
    func reader() throws {
        let lookup = LocalPeerLookup()
        let table = try String(contentsOfFile: lookup.tcpPath, encoding: .utf8)
        #expect(table.hasPrefix("  sl"), "procfs reads as text")
        let absent = Self.v4(127, 0, 0, 1, port: 1)
        // Errors compare by code: the endpoint and the path are checked beside it.
        let notFound = #expect(throws: PeerLookupError.notFound(absent)) {
            try lookup.peer(client: absent, server: Self.v4(127, 0, 0, 1, port: 2))
        }
        #expect(notFound?.endpoint == absent)
        var missing = LocalPeerLookup()
        missing.tcpPath = "/nonexistent/tcp"
        missing.tcp6Path = "/nonexistent/tcp6"
        let unreadable4 = #expect(throws: PeerLookupError.unreadable("/nonexistent/tcp6")) {
            try missing.peer(client: absent, server: Self.v4(127, 0, 0, 1, port: 2))
        }
        #expect(unreadable4?.path == "/nonexistent/tcp6")
        let unreadable6 = #expect(throws: PeerLookupError.unreadable("/nonexistent/tcp6")) {
            try missing.peer(client: Self.loopback6(port: 1), server: Self.loopback6(port: 2))
        }
        #expect(unreadable6?.path == "/nonexistent/tcp6")
    }
}
