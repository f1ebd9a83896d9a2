import CardTestSupport
import Foundation
import PCSC
import SmartCardCore
import Synchronization
import Testing
import VirtualReaderStack

/// The PC/SC wrapper against the real pcscd 1.9.9 + vpcd + virtual CPS3 (CardTestSupport's RealStack).
@Suite("PC/SC on the real stack")
struct RealStackTests {
    let backend = PCSCBackend()
    static let selectMF = CommandAPDU(ins: 0xA4, p1: 0x00, p2: 0x0C, data: [0x3F, 0x00])

    @Test("the readers are listed with the CPS3 ATR")
    func list() async throws {
        try await RealStack.withStack { stack in
            let readers = try backend.listReaders()
            for index in 0..<RealStack.readerCount {
                let reader = try #require(readers.first { $0.name == stack.readerName(index) })
                #expect(reader.cardPresent)
                #expect(reader.atr == CardKind.cps3ContactATR)
                #expect(reader.cardKind == .cps3Contact)
            }
        }
    }

    @Test("connect, transmit inside a transaction, reconnect with a reset")
    func connectAndTransmit() async throws {
        try await RealStack.withStack { stack in
            let connection = try backend.connect(to: stack.readerName(0))
            defer { connection.disconnect(.leave) }
            #expect(connection.atr.isT0Only)
            let response = try connection.withTransaction { try $0.transmit(Self.selectMF) }
            #expect(response.statusWord == .success)
            // T=0 through pcscd: GET DATA answers 61xx, the session fetches the rest.
            let docp = try connection.withTransaction { session in
                try session.transmit(CommandAPDU(ins: 0xCB, p1: 0x3F, p2: 0xFF,
                    data: [0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, 0x01, 0x02, 0xA0, 0x80], expectedLength: 256))
            }
            #expect(docp.statusWord == .success && docp.data.first == 0x70)
            try connection.reconnect(.reset)
            #expect(try connection.withTransaction { try $0.transmit(Self.selectMF) }.statusWord == .success)
        }
    }

    @Test("a transaction keeps a second connection out until it ends")
    func transactionExcludes() async throws {
        try await RealStack.withStack { stack in
            let first = try backend.connect(to: stack.readerName(0))
            let second = try backend.connect(to: stack.readerName(0))
            defer {
                first.disconnect(.leave)
                second.disconnect(.leave)
            }
            try first.beginTransaction()
            let entered = Mutex(false)
            let done = DispatchSemaphore(value: 0)
            Thread {
                try? second.beginTransaction()
                entered.withLock { $0 = true }
                try? second.endTransaction(.leave)
                done.signal()
            }.start()
            try await Task.sleep(for: .milliseconds(300))
            #expect(entered.withLock { $0 } == false, "the second connection got in during the first's transaction")
            try first.endTransaction(.leave)
            #expect(done.wait(timeout: .now() + 5) == .success)
            #expect(entered.withLock { $0 })
        }
    }

    @Test("a card pulled in the middle of a transaction gives a typed error; the reinserted card works")
    func pulledMidTransaction() async throws {
        try await RealStack.withStack { stack in
            let connection = try backend.connect(to: stack.readerName(1))
            defer { connection.disconnect(.leave) }
            let error = #expect(throws: CardError.self) {
                try connection.withTransaction { session in
                    #expect(try session.transmit(Self.selectMF).statusWord == .success)
                    try stack.removeCard(reader: 1, wait: false)
                    for _ in 0..<200 {  // until vpcd notices: the first answers may still come from the link
                        _ = try session.transmit(Self.selectMF)
                        Thread.sleep(forTimeInterval: 0.01)
                    }
                }
            }
            #expect([.cardRemoved, .transmitFailed, .noCard].contains(error?.code))
            try stack.waitForPresence(reader: 1, present: false)
            #expect(throws: CardError.self) { try connection.transmit(Self.selectMF.bytes) }
            try stack.reinsertCard(reader: 1)
            let fresh = try backend.connect(to: stack.readerName(1))
            defer { fresh.disconnect(.leave) }
            #expect(try fresh.withTransaction { try $0.transmit(Self.selectMF) }.statusWord == .success)
        }
    }

    @Test("the monitor reports removal and insertion as they happen")
    func monitorEvents() async throws {
        try await RealStack.withStack { stack in
            let name = stack.readerName(1)
            var iterator = backend.events().makeAsyncIterator()
            var initial: [ReaderEvent] = []
            while initial.count < 2 * RealStack.readerCount, let event = await iterator.next() { initial.append(event) }
            #expect(initial.contains(.readerAdded(name)))
            #expect(initial.contains(.cardInserted(reader: name, atr: CardKind.cps3ContactATR)))
            stack.stack.removeCard(reader: 1)
            #expect(await iterator.next() == .cardRemoved(reader: name))
            stack.stack.insertCard(stack.cards[1], reader: 1)
            #expect(await iterator.next() == .cardInserted(reader: name, atr: CardKind.cps3ContactATR))
        }
    }

    @Test("a pcscd restart is a typed error for old handles, the monitor reports it, new handles work")
    func pcscdRestart() async throws {
        try await RealStack.withStack { stack in
            let connection = try backend.connect(to: stack.readerName(0))
            var iterator = backend.events().makeAsyncIterator()
            for _ in 0..<(2 * RealStack.readerCount) { _ = await iterator.next() }
            stack.stack.stopPCSCD()
            var lost: [ReaderEvent] = []
            while let event = await iterator.next() {
                lost.append(event)
                if event == .serviceLost { break }
            }
            #expect(lost.contains(.cardRemoved(reader: stack.readerName(0))))
            let error = #expect(throws: CardError.self) { try connection.transmit(Self.selectMF.bytes) }
            #expect(error?.group == .retriable)
            #expect(throws: CardError(.serviceUnavailable, "")) { try backend.listReaders() }
            try stack.stack.startPCSCD()
            #expect(await iterator.next() == .serviceRestored)
            try stack.waitForPresence(reader: 0, present: true)
            let fresh = try backend.connect(to: stack.readerName(0))
            defer { fresh.disconnect(.leave) }
            #expect(try fresh.withTransaction { try $0.transmit(Self.selectMF) }.statusWord == .success)
        }
    }

    @Test("an unknown reader is a typed error")
    func unknownReader() async throws {
        _ = try await RealStack.withStack { _ in
            #expect(throws: CardError(.unknownReader, "")) { try backend.connect(to: "No Such Reader 00 00") }
        }
    }
}

extension CardError {
    var group: CardError.Group { code.group }
}
