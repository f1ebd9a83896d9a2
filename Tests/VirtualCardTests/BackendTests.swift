import Dispatch
import Foundation
import SmartCardCore
import Testing
import VirtualCard

@Suite struct BackendTests {
    static let reader = "Reader A"
    static let otherReader = "Reader B"

    static func card() -> CPS3Card { CPS3Card(state: SimulatorFixture.state()) }

    @Test func listsReadersAndCards() throws {
        let backend = VirtualBackend()
        #expect(try backend.listReaders().isEmpty)
        backend.plugReader(Self.reader)
        backend.plugReader(Self.otherReader)
        try backend.insert(Self.card(), into: Self.otherReader)
        let readers = try backend.listReaders()
        #expect(readers.map(\.name) == [Self.reader, Self.otherReader])
        #expect(readers.map(\.cardPresent) == [false, true])
        #expect(readers[1].cardKind == .cps3Contact)
    }

    @Test func connectErrors() throws {
        let backend = VirtualBackend()
        #expect(throws: CardError(.unknownReader, "")) { try backend.connect(to: Self.reader) }
        backend.plugReader(Self.reader)
        #expect(throws: CardError(.noCard, "")) { try backend.connect(to: Self.reader) }
        #expect(throws: CardError(.unknownReader, "")) { try backend.insert(Self.card(), into: Self.otherReader) }
        try backend.insert(Self.card(), into: Self.reader)
        #expect(throws: CardError(.internalError, "")) { try backend.insert(Self.card(), into: Self.reader) }
        let connection = try backend.connect(to: Self.reader)
        #expect(try connection.transmit(bytes("00 20 00 01")) == bytes("63 C3"))
        try backend.removeCard(from: Self.reader)
        #expect(throws: CardError(.cardRemoved, "")) { try connection.transmit(bytes("00 20 00 01")) }
        // A new card does not revive the old connection.
        try backend.insert(Self.card(), into: Self.reader)
        #expect(throws: CardError(.cardRemoved, "")) { try connection.transmit(bytes("00 20 00 01")) }
        backend.unplugReader(Self.reader)
        #expect(throws: CardError(.unknownReader, "")) { try connection.transmit(bytes("00 20 00 01")) }
    }

    @Test func dispositionsResetTheCard() throws {
        let backend = VirtualBackend()
        backend.plugReader(Self.reader)
        try backend.insert(Self.card(), into: Self.reader)
        let connection = try backend.connect(to: Self.reader)
        var session = CardSession(connection: connection)
        #expect(try session.verifyPIN() == .success)
        try connection.withTransaction(end: .leave) { _ in }
        #expect(try session.raw("00 20 00 01").statusWord == .success)
        try connection.withTransaction(end: .reset) { _ in }
        #expect(try session.raw("00 20 00 01").statusWord == .verificationFailed(triesLeft: 3))
        #expect(try session.verifyPIN() == .success)
        try connection.reconnect(.reset)
        #expect(try session.raw("00 20 00 01").statusWord == .verificationFailed(triesLeft: 3))
    }

    @Test func transactionExcludesAnotherConnection() throws {
        let backend = VirtualBackend()
        backend.plugReader(Self.reader)
        try backend.insert(Self.card(), into: Self.reader)
        let first = try backend.connect(to: Self.reader)
        let second = try backend.connect(to: Self.reader)
        try first.beginTransaction()
        let entered = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? second.beginTransaction()
            entered.signal()
            try? second.endTransaction(.leave)
        }
        #expect(entered.wait(timeout: .now() + .milliseconds(200)) == .timedOut)
        try first.endTransaction(.leave)
        #expect(entered.wait(timeout: .now() + .seconds(10)) == .success)
    }

    @Test func eventsStartWithCurrentReadersThenFollowChanges() async throws {
        let backend = VirtualBackend()
        backend.plugReader(Self.reader)
        let atr = Self.card().atr
        try backend.insert(Self.card(), into: Self.reader)
        let stream = backend.events()
        backend.plugReader(Self.otherReader)
        try backend.removeCard(from: Self.reader)
        backend.unplugReader(Self.otherReader)
        var received: [ReaderEvent] = []
        for await event in stream {
            received.append(event)
            if received.count == 5 { break }
        }
        #expect(
            received == [
                .readerAdded(Self.reader), .cardInserted(reader: Self.reader, atr: atr), .readerAdded(Self.otherReader),
                .cardRemoved(reader: Self.reader), .readerRemoved(Self.otherReader),
            ])
    }

    @Test func cancellingTheConsumerStopsTheStream() async throws {
        let backend = VirtualBackend()
        backend.plugReader(Self.reader)
        let stream = backend.events()
        let consumer = Task {
            var count = 0
            for await _ in stream { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        consumer.cancel()
        #expect(await consumer.value == 1)
        // Changes after the consumer left go nowhere and do not block.
        backend.plugReader(Self.otherReader)
        #expect(try backend.listReaders().count == 2)
    }
}
