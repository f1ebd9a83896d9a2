import CardTestSupport
import Foundation
import Testing

/// Who may hold a bridge connection, and how many, over real sockets to a real cpsd: another user's
/// process is closed before TLS, idle and trickling connections are closed, the caps hold, pairing
/// starts are limited globally, and accept errors (EMFILE) neither stop the bridge nor spin it.
@Suite("Bridge: peers and connection caps", .serialized)
struct BridgePeerTests {
    static let nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    static let perPeerCap = 16

    @Test("another user's process is refused before TLS (IPv4 and IPv6); cpsd's own user is served")
    func otherUser() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            for host in ["127.0.0.1", "::1"] {
                let url = "https://\(host.contains(":") ? "[\(host)]" : host):\(bridge.port)/v1/status"
                let curl = [
                    "/usr/bin/curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "{}",
                    "-H", "Origin: \(BridgeHarness.extensionOrigin)", "-H", "X-CPS-Bridge: 1", "-H", "Content-Type: application/json",
                    url,
                ]
                let foreign = try ToolRunner.run(Self.nobody[0], Array(Self.nobody.dropFirst()) + curl, timeout: 20)
                #expect(foreign.stdout == "000" && foreign.status != 0, "uid 65534 got an answer: \(foreign.output)")
                let own = try ToolRunner.run(curl[0], Array(curl.dropFirst()), timeout: 20)
                #expect(own.stdout == "200", "\(own.output)")
                // A raw TCP connection that sends nothing: closed at once for uid 65534, kept for ours.
                let raw = try Self.holdConnections(bridge, host: host, count: 1, hold: 0.5, prefix: Self.nobody)
                #expect(raw.closed == [true], "uid 65534's socket was not closed before any TLS byte")
                #expect(try Self.holdConnections(bridge, host: host, count: 1, hold: 0.5).closed == [false])
            }
            #expect(bridge.daemon.log.contains("uid 65534, not to cpsd's user"), "\(bridge.daemon.logTail())")
        }
    }

    @Test("per-peer cap: the 17th idle connection of one uid is closed at once; 70 leave cpsd 16 sockets; served after")
    func caps() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            let ss = ["/bin/sh", "-c", "ss -Htn state established '( sport = :\(bridge.port) )' | wc -l"]
            let capped = try Self.holdConnections(bridge, count: Self.perPeerCap + 1, hold: 0.5, during: ss)
            #expect(capped.closed == Array(repeating: false, count: Self.perPeerCap) + [true], "\(capped.closed)")
            #expect(capped.during.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Self.perPeerCap)")
            try Self.expectServed(bridge)

            let flood = try Self.holdConnections(bridge, count: 70, hold: 0.5, during: ss)
            #expect(flood.closed.filter { !$0 }.count == Self.perPeerCap)
            #expect(flood.during.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Self.perPeerCap)")
            try Self.expectServed(bridge)
        }
    }

    @Test("a connection that never completes a request is closed, even when it trickles bytes in or after TLS")
    func idle() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            let result = try ToolRunner.run(
                DaemonTest.python, ["-c", Self.idleScript, "127.0.0.1", "\(bridge.port)"], timeout: 90)
            let times = try #require(
                (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Double], "\(result.output)")
            for name in ["silent", "handshake", "request"] {
                let closedAfter = try #require(times[name], "\(name) was never closed: \(result.output)")
                #expect(closedAfter >= 25 && closedAfter <= 45, "\(name) closed after \(closedAfter) s")
            }
            try Self.expectServed(bridge)
        }
    }

    @Test("pairing starts are limited globally: 12 claimed origins, 3 admitted, the rest and our own extension 429")
    func pairingFlood() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            try bridge.setDialogAnswers(Array(repeating: "ok", count: 12))
            let origins = (0..<12).map { "moz-extension://0b5e7a9c-4d1f-4c2e-9a8b-\(String(format: "%012d", $0))" }
            let answers = try origins.map { try bridge.call("POST", "/v1/pair/start", json: "{}", headers: ["Origin": $0]) }
            #expect(answers[0].status == 200, "\(answers[0].body)")
            #expect(answers[1..<3].allSatisfy { [200, 409].contains($0.status) }, "\(answers.map(\.status))")
            #expect(answers[3...].allSatisfy { $0.status == 429 && $0.errorCode == "ERR_RATE_LIMITED" }, "\(answers.map(\.status))")
            let ours = try bridge.call("POST", "/v1/pair/start", json: "{}")
            #expect(ours.errorCode == "ERR_RATE_LIMITED", "a fresh origin gets no fresh tries")
            #expect(bridge.messageDialogs().count <= 3)
            #expect(try bridge.call("POST", "/v1/status", json: "{}").status == 200, "other routes still answer")
        }
    }

    @Test("out of descriptors (EMFILE): the bridge backs off without spinning, then serves again")
    func acceptBackoff() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            let pid = bridge.daemon.pid
            // RLIMIT_NOFILE bounds descriptor numbers: at the lowest free number, no descriptor is left.
            var lowestFree = try Self.lowestFreeDescriptor(pid)
            let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
            let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let (soft, hard) = (String(fields[3]), String(fields[4]))
            // No descriptor left: accept(2) fails with EMFILE.
            // A connection cpsd was still closing would free a number below the limit: lower it again until
            // the lowest free number is the limit itself.
            for _ in 0..<5 {
                let lowered = try ToolRunner.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(lowestFree):\(hard)"])
                #expect(lowered.status == 0, "\(lowered.output)")
                let now = try Self.lowestFreeDescriptor(pid)
                if now == lowestFree { break }
                lowestFree = now
            }
            let before = try Self.cpuSeconds(pid)
            // The listening socket's Recv-Q: connections the kernel holds for an accept that cannot happen.
            let queue = ["/bin/sh", "-c", "ss -Hltn 'sport = :\(bridge.port)' | awk '$4 ~ /^127/ {print $2}'"]
            let held = try Self.holdConnections(bridge, count: 10, hold: 3, during: queue)
            let spent = try Self.cpuSeconds(pid) - before
            let waiting = Int(held.during.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect(waiting >= 9, "cpsd was not out of descriptors: \(waiting) connections waiting to be accepted")
            #expect(spent < 1.5, "cpsd used \(spent) s of CPU in 3 s out of descriptors: the accept loop spins")
            let restored = try ToolRunner.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(soft):\(hard)"])
            #expect(restored.status == 0, "\(restored.output)")
            try Self.expectServed(bridge)
            #expect(bridge.daemon.log.contains("bridge: cannot accept a connection, pausing 1 s"), "\(bridge.daemon.logTail())")
            #expect(!bridge.daemon.log.contains("listener on"), "the listener never closed")
            #expect(!bridge.daemon.hasExited)
        }
    }

    // MARK: - Helpers

    /// The lowest descriptor number cpsd does not use, once its descriptor table stopped changing (a
    /// connection of the harness's readiness probe may still be closing).
    static func lowestFreeDescriptor(_ pid: Int32) throws -> Int {
        var previous: Set<Int>?
        for _ in 0..<20 {
            let used = Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int($0) })
            if used == previous { return (0...).first { !used.contains($0) }! }
            previous = used
            usleep(200_000)
        }
        return (0...).first { !(previous ?? []).contains($0) }!
    }

    struct Held {
        var closed: [Bool]
        var during: String
    }

    /// Opens `count` TCP connections that send nothing (as `prefix`, e.g. another uid), waits `hold`
    /// seconds, runs `during` while they are open, and says which the bridge closed.
    static func holdConnections(
        _ bridge: BridgeHarness, host: String = "127.0.0.1", count: Int, hold: Double, prefix: [String] = [],
        during: [String] = []
    ) throws -> Held {
        let command = prefix + [DaemonTest.python, "-c", holdScript, host, "\(bridge.port)", "\(count)", "\(hold)"] + during
        let result = try ToolRunner.run(command[0], Array(command.dropFirst()), timeout: 60)
        guard let json = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any],
            let closed = json["closed"] as? [Bool]
        else { throw DaemonProcessError("hold script: \(result.output)") }
        return Held(closed: closed, during: json["during"] as? String ?? "")
    }

    /// A normal request is answered once the bridge has seen the held connections close.
    static func expectServed(_ bridge: BridgeHarness) throws {
        var last = "no answer"
        for _ in 0..<40 {
            if let answer = try? bridge.call("POST", "/v1/status", json: "{}", timeout: 5), answer.status == 200 { return }
            last = "not served yet"
            usleep(100_000)
        }
        Issue.record("the bridge does not serve after the connections closed: \(last)\n\(bridge.daemon.logTail())")
    }

    /// utime + stime of `pid`, in seconds (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s).
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        return Double((Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)) / 100
    }

    static let holdScript = """
        import json, select, socket, subprocess, sys, time
        host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sockets = []
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect((host, port))
            sockets.append(s)
            time.sleep(0.02)
        time.sleep(hold)
        def closed(s):
            if not select.select([s], [], [], 0)[0]:
                return False
            try:
                return s.recv(1) == b""
            except OSError:
                return True
        state = [closed(s) for s in sockets]
        during = subprocess.run(sys.argv[5:], capture_output=True, text=True).stdout if len(sys.argv) > 5 else ""
        print(json.dumps({"closed": state, "during": during}))
        """

    /// Three connections: one silent; one sending a TLS ClientHello a byte every 2 s; one that completes
    /// TLS, then sends an HTTP request a byte every 2 s (a read timeout, reset by each byte read, never
    /// fires on it). Prints after how many seconds the bridge closed each.
    static let idleScript = """
        import json, select, socket, ssl, sys, time
        host, port = sys.argv[1], int(sys.argv[2])
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        client = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
        try:
            client.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        request = f"POST /v1/status HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nX-Slow: {'a' * 100}".encode()
        tls = context.wrap_socket(socket.create_connection((host, port)), server_hostname="localhost")
        tls.setblocking(False)
        conns = {"silent": socket.create_connection((host, port)), "handshake": socket.create_connection((host, port)),
                 "request": tls}
        payload = {"handshake": hello, "request": request}
        start, closed, sent, next_byte = time.monotonic(), {}, {"handshake": 0, "request": 0}, 0.0
        while len(closed) < 3 and time.monotonic() - start < 60:
            now = time.monotonic() - start
            if now >= next_byte:
                next_byte = now + 2
                for name in payload:
                    if name not in closed and sent[name] < len(payload[name]):
                        try:
                            conns[name].send(payload[name][sent[name]:sent[name] + 1])
                            sent[name] += 1
                        except (OSError, ssl.SSLError):
                            pass
            for name, s in conns.items():
                if name in closed or not select.select([s], [], [], 0)[0]:
                    continue
                try:
                    data = s.recv(4096)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                except (OSError, ssl.SSLError):
                    data = b""
                if data == b"":
                    closed[name] = time.monotonic() - start
            time.sleep(0.1)
        print(json.dumps(closed))
        """
}
