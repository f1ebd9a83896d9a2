import Glibc

/// One TCP connection from a virtual card to a vpcd reader port, with the framing of the vpcd protocol
/// (reference `virtual-reader-stack.md` §2.2): every message is a big-endian `UInt16` length and that
/// many bytes. Blocking I/O only; driven by one dedicated thread.
struct VpcdSocket: ~Copyable {
    /// The largest body one frame can carry.
    static let maximumFrameLength = 0xFFFF

    let descriptor: Int32

    /// Connects once (no retry) to `host:port`; nil when nothing listens there yet.
    static func connect(host: String, port: UInt16) -> VpcdSocket? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            // CLOEXEC: a child process (opensc-tool in a test, a pcscd wrapper) must never inherit the
            // card's connection, or the card would stay inserted after `remove()`.
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(info.pointee.ai_family, type, 0)
            if fd >= 0 {
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    let connected = VpcdSocket(descriptor: fd)
                    connected.rearmQuickAck()
                    return connected
                }
                close(fd)
            }
            entry = info.pointee.ai_next
        }
        return nil
    }

    deinit { close(descriptor) }

    /// Reads one frame; nil on EOF or error (the peer went away or the socket was shut down).
    func receiveFrame() -> [UInt8]? {
        guard let header = receive(exactly: 2) else { return nil }
        let length = Int(header[0]) << 8 | Int(header[1])
        if length == 0 { return [] }
        return receive(exactly: length)
    }

    /// Writes length‖body with a single `send` (a split write stalls on Nagle + delayed ACK, §2.6).
    @discardableResult
    func sendFrame(_ body: [UInt8]) -> Bool {
        precondition(body.count <= Self.maximumFrameLength, "vpcd frames carry at most 0xFFFF bytes")
        var frame = [UInt8(truncatingIfNeeded: body.count >> 8), UInt8(truncatingIfNeeded: body.count)]
        frame.append(contentsOf: body)
        var sent = 0
        while sent < frame.count {
            let n = frame.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// Wakes a thread blocked in `receiveFrame()` from another thread and sends FIN to vpcd.
    /// Closing the descriptor instead would race with its reuse by another open.
    static func shutdown(descriptor: Int32) {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
    }

    private func receive(exactly count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress! + received, count - received, 0)
            }
            // Linux leaves quick-ACK mode again on its own: re-arm it after every recv, or vpcd's
            // two-part send waits ~40 ms for our delayed ACK on every APDU (§2.6).
            rearmQuickAck()
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            received += n
        }
        return buffer
    }

    private func rearmQuickAck() {
        var one: Int32 = 1
        _ = setsockopt(
            descriptor, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
