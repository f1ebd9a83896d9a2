import CardTestSupport
import Foundation
import IASECC
import SmartCardCore
import Testing

/// Damaged card answers become typed errors, never a crash.
@Suite("Malformed card answers")
struct MalformedAnswerTests {
    /// Reads the card through a fault and returns the error code the driver reported.
    private func readCode(_ fault: @escaping @Sendable ([UInt8], [UInt8]) -> [UInt8]) throws -> IASECCError.Code? {
        let rig = try InProcessCard { FaultyCard($0, fault: fault) }
        do {
            _ = try rig.connection.withTransaction { try CPS3Driver.readCard(&$0) }
            return nil
        } catch let error as IASECCError {
            return error.code
        }
    }

    static func isRead(_ command: [UInt8], offset: UInt8 = 0) -> Bool { command.count == 5 && command[1] == 0xB0 }

    @Test("a truncated TLV in a PKCS#15 file")
    func truncatedTLV() throws {
        let code = try readCode { command, response in
            // EF.ODF (its entries are tagged A0…A8): keep 3 bytes of data and the status word.
            Self.isRead(command) && command[2] == 0 && response.count > 10 && (0xA0...0xA8).contains(response[0])
                ? Array(response.prefix(3)) + [0x90, 0x00] : response
        }
        #expect(code == .malformedCardData)
    }

    @Test("EF.SN.ICC without its PAN tag")
    func badSerial() throws {
        let code = try readCode { command, response in
            command == [0x00, 0xB0, 0x9C, 0x00, 0x0C] ? [0x04, 0x02, 0x01, 0x02, 0x90, 0x00] : response
        }
        #expect(code == .malformedCardData)
    }

    @Test("an unexpected status word")
    func unexpectedStatus() throws {
        let code = try readCode { command, response in
            command.count > 1 && command[1] == 0xCB ? [0x6F, 0x00] : response
        }
        #expect(code == .unexpectedStatus)
    }

    @Test("a response without status word")
    func noStatusWord() throws {
        let code = try readCode { command, response in Self.isRead(command) ? [0x90] : response }
        #expect(code == .transport)
    }

    @Test("a DOCP with wrong inner lengths")
    func wrongLengths() throws {
        let code = try readCode { command, response in
            command.count == 5 && command[1] == 0xC0 && response.first == 0x70
                ? [0x70, 0x16, 0xBF, 0x81, 0x01, 0x40] + Array(response.dropFirst(6)) : response
        }
        #expect(code == .malformedCardData)
    }

    @Test("random corruption of answers: typed errors or success, never a crash")
    func randomCorruption() throws {
        for seed in 0..<60 {
            let target = seed % 30
            let counter = Locked(0)
            _ = try readCode { _, response in
                let index = counter.next()
                guard index == target, !response.isEmpty else { return response }
                var damaged = response
                let position = (seed * 7919) % damaged.count
                damaged[position] ^= UInt8(truncatingIfNeeded: 0x5A &+ seed)
                return seed % 3 == 0 ? Array(damaged.prefix(position)) : damaged
            }
        }
    }
}

/// A counter shared with a @Sendable closure.
final class Locked: @unchecked Sendable {
    private var value: Int
    private let lock = NSLock()
    init(_ value: Int) { self.value = value }
    func next() -> Int {
        lock.lock()
        defer {
            value += 1
            lock.unlock()
        }
        return value
    }
}
