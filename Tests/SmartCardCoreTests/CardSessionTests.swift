import SmartCardCore
import Synchronization
import Testing

/// A connection that answers from a script of (command → response) pairs and fails on anything else.
final class ScriptedConnection: CardConnection, Sendable {
    let readerName = "scripted"
    let atr = try! ATR(bytes: CardKind.cps3ContactATR)
    private let script: Mutex<[([UInt8], [UInt8])]>

    init(_ script: [([UInt8], [UInt8])]) { self.script = Mutex(script) }

    var remaining: Int { script.withLock { $0.count } }

    func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8] {
        try script.withLock { (steps) throws(CardError) -> [UInt8] in
            guard !steps.isEmpty else { throw CardError(.transmitFailed, "script exhausted") }
            let (expected, response) = steps.removeFirst()
            guard expected == command else {
                throw CardError(.internalError, "expected \(Hex.string(from: expected)), got \(Hex.string(from: command))")
            }
            return response
        }
    }
    func beginTransaction() throws(CardError) {}
    func endTransaction(_ disposition: CardDisposition) throws(CardError) {}
    func reconnect(_ initialization: CardDisposition) throws(CardError) {}
    func disconnect(_ disposition: CardDisposition) {}
}

@Suite("CardSession T=0 handling")
struct CardSessionTests {
    @Test("61xx is followed by GET RESPONSE until the card has nothing more")
    func getResponse() throws {
        let select: [UInt8] = [0x00, 0xA4, 0x04, 0x04, 0x02, 0xAA, 0xBB, 0x00]
        let connection = ScriptedConnection([
            (select, [0x61, 0x04]),
            ([0x00, 0xC0, 0x00, 0x00, 0x04], [1, 2, 3, 4, 0x61, 0x02]),
            ([0x00, 0xC0, 0x00, 0x00, 0x02], [5, 6, 0x90, 0x00]),
        ])
        let response = try connection.withTransaction { session in
            let response = try session.transmit(try CommandAPDU(bytes: select))
            #expect(session.exchangeCount == 3)
            return response
        }
        #expect(response == ResponseAPDU(data: [1, 2, 3, 4, 5, 6], statusWord: .success))
        #expect(connection.remaining == 0)
    }

    @Test("6Cxx re-sends the command with the exact Le")
    func wrongLe() throws {
        let connection = ScriptedConnection([
            ([0x00, 0xB0, 0x00, 0x00, 0xE7], [0x6C, 0x39]),
            ([0x00, 0xB0, 0x00, 0x00, 0x39], Array(repeating: 7, count: 0x39) + [0x90, 0x00]),
        ])
        let response = try connection.withTransaction { session in
            try session.transmit(CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 0xE7))
        }
        #expect(response.data.count == 0x39)
        #expect(response.statusWord == .success)
    }

    @Test("a response without status word (card gone mid-exchange) is a typed error")
    func emptyResponse() {
        let connection = ScriptedConnection([([0x00, 0x84, 0x00, 0x00, 0x08], [])])
        #expect(throws: CardError(.transmitFailed, "")) {
            try connection.withTransaction { session in
                try session.transmit(CommandAPDU(ins: 0x84, p1: 0, p2: 0, expectedLength: 8))
            }
        }
    }

    @Test("raw transmission leaves 61xx to the caller")
    func raw() throws {
        let connection = ScriptedConnection([([0x00, 0x84, 0x00, 0x00, 0x08], [0x61, 0x08])])
        let response = try connection.withTransaction { session in try session.transmitRaw([0x00, 0x84, 0x00, 0x00, 0x08]) }
        #expect(response.statusWord.bytesAvailableCount == 8)
    }

    @Test("a card that announces 61xx forever is cut off after a bounded number of GET RESPONSEs")
    func endlessGetResponse() throws {
        let command: [UInt8] = [0x00, 0xCA, 0x01, 0x00, 0x00]
        let getResponse: [UInt8] = [0x00, 0xC0, 0x00, 0x00, 0xFF]
        let steps = [(command, [0x61, 0xFF])]
            + Array(repeating: (getResponse, [UInt8](repeating: 0x42, count: 255) + [0x61, 0xFF]), count: 200)
        let connection = ScriptedConnection(steps)
        let exchanges = connection.withTransactionCount { session in
            #expect(throws: CardError(.malformedResponse, "")) { try session.transmit(try CommandAPDU(bytes: command)) }
        }
        #expect(exchanges <= CardSession.maxGetResponses + 1)
        #expect(connection.remaining > 0, "the session kept asking")
    }
}

extension ScriptedConnection {
    /// Runs `body` in a transaction and returns how many exchanges the session made.
    func withTransactionCount(_ body: (inout CardSession) -> Void) -> Int {
        (try? withTransaction { session in
            body(&session)
            return session.exchangeCount
        }) ?? -1
    }
}
