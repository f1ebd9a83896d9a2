import Foundation
import Glibc

/// Reads the newline-terminated JSON objects a helper process (a PyKCS11 client, the browser driver)
/// answers on its standard output, each within a deadline.
struct JSONLineReader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// The next object. `who` names the process and `context` is shown when it is silent or exits.
    mutating func next(timeout: Double, who: String, context: @autoclosure () -> String) throws -> [String: Any] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !buffer.contains(0x0A) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&poller, 1, remaining) > 0 else { throw Failure(description: "\(who) silent:\n\(context())") }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { throw Failure(description: "\(who) exited:\n\(context())") }
            buffer += chunk[0..<count]
        }
        let end = buffer.firstIndex(of: 0x0A)!
        let line = Data(buffer[..<end])
        buffer.removeSubrange(...end)
        guard let answer = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw Failure(description: "not a JSON object: \(String(decoding: line, as: UTF8.self))")
        }
        return answer
    }
}
