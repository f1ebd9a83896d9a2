import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualReaderStack

/// The virtual reader stack against the real pcscd 1.9.9 and vpcd. Each test has its own stack
/// (own directory, own mount namespace, own ports), so the tests may run in parallel.
@Suite("Virtual reader stack")
struct StackTests {
    typealias Support = StackTestSupport

    @Test func startsAndStopsLeavingNothing() throws {
        let directory = Support.makeDirectory()
        let hostSocketBefore = FileManager.default.fileExists(atPath: "/run/pcscd/pcscd.comm")
        let stack = VirtualStack(directory: directory, readerCount: 1)
        try stack.start(cards: [TestCards.card()])
        #expect(stack.socketPath == directory.path + "/run/pcscd.comm")
        #expect(FileManager.default.fileExists(atPath: stack.socketPath))
        #expect(Support.pcscdProcesses(directory).count == 1)
        let coldStart = try #require(stack.coldStartDuration)
        #expect(coldStart < .seconds(5))
        print("cold start: \(coldStart)")

        stack.stop()
        #expect(Support.pcscdProcesses(directory).isEmpty)
        #expect(Support.waitForNothingRunning(directory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: stack.socketPath))
        // The host's /run/pcscd was never written to: the socket lived only in the stack's directory.
        #expect(FileManager.default.fileExists(atPath: "/run/pcscd/pcscd.comm") == hostSocketBefore)
        stack.stop()  // Idempotent.
    }

    @Test func misuseIsATypedError() throws {
        let stack = VirtualStack(directory: Support.makeDirectory(), readerCount: 1)
        defer { stack.stop() }
        #expect(throws: VirtualStackError(.invalidState, "")) { try stack.startPCSCD() }
        #expect(throws: VirtualStackError(.invalidState, "")) {
            try stack.start(cards: [TestCards.card(), TestCards.card()])
        }
        try stack.start(cards: [TestCards.card()])
        #expect(throws: VirtualStackError(.invalidState, "")) { try stack.start(cards: []) }
        stack.stop()
        #expect(throws: VirtualStackError(.invalidState, "")) { try stack.startPCSCD() }
    }

    @Test func readerToolsSeeTheReaderAndTheCPS3ATR() throws {
        let stack = VirtualStack(directory: Support.makeDirectory(), readerCount: 1)
        defer { stack.stop() }
        try stack.start(cards: [TestCards.card()])
        let reader = stack.readerNames[0]
        #expect(reader == "Virtual CPS Reader 0 00 00")

        let scan = try Support.run("/usr/bin/pcsc_scan", ["-r"], environment: stack.environment)
        #expect(scan.output.contains(reader))
        let listed = try Support.run("/usr/bin/opensc-tool", ["-l", "-a"], environment: stack.environment)
        #expect(listed.status == 0)
        #expect(listed.output.contains(reader))
        #expect(listed.output.contains(Support.cps3ATRText))
        let atr = try Support.run("/usr/bin/opensc-tool", ["-r", reader, "-a"], environment: stack.environment)
        #expect(atr.output.trimmingCharacters(in: .whitespacesAndNewlines) == Support.cps3ATRText)
    }

    @Test func removalAndInsertionAreSeen() throws {
        let stack = VirtualStack(directory: Support.makeDirectory(), readerCount: 1)
        defer { stack.stop() }
        let card = TestCards.card()
        try stack.start(cards: [card])
        let reader = stack.readerNames[0]
        #expect(try Support.openscReaders(stack)[reader] == true)

        stack.removeCard(reader: 0)
        #expect(try Support.waitForPresence(stack, reader: reader, present: false))
        stack.insertCard(card, reader: 0)
        #expect(stack.waitUntilPowered(reader: 0, timeout: .seconds(5)))
        #expect(try Support.waitForPresence(stack, reader: reader, present: true))
    }

    @Test func threeReadersWithTwoDriverCopiesAllWork() throws {
        let directory = Support.makeDirectory()
        let stack = VirtualStack(directory: directory, readerCount: 3)
        defer { stack.stop() }
        try stack.start(cards: [TestCards.card(), TestCards.card(), TestCards.card()])
        let drivers = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/drivers")
        #expect(drivers.sorted() == ["libifdvpcd-0.so", "libifdvpcd-1.so"])

        let readers = try Support.openscReaders(stack)
        for name in stack.readerNames { #expect(readers[name] == true, "\(name) in \(readers)") }
        for name in stack.readerNames {
            let atr = try Support.run("/usr/bin/opensc-tool", ["-r", name, "-a"], environment: stack.environment)
            #expect(atr.output.contains(Support.cps3ATRText), "\(name)")
        }
        // Pulling one card affects only its reader (each entry has its own driver instance).
        stack.removeCard(reader: 2)
        #expect(try Support.waitForPresence(stack, reader: stack.readerNames[2], present: false))
        let after = try Support.openscReaders(stack)
        #expect(after[stack.readerNames[0]] == true)
        #expect(after[stack.readerNames[1]] == true)
    }

    @Test func cardsReconnectAfterAPCSCDRestart() throws {
        let directory = Support.makeDirectory()
        let stack = VirtualStack(directory: directory, readerCount: 2)
        defer { stack.stop() }
        try stack.start(cards: [TestCards.card(), TestCards.card()])
        let firstPCSCD = Support.pcscdProcesses(directory)
        #expect(firstPCSCD.count == 1)

        stack.stopPCSCD()
        #expect(Support.pcscdProcesses(directory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: stack.socketPath))
        try stack.startPCSCD()  // Returns once every inserted card is powered again.
        let secondPCSCD = Support.pcscdProcesses(directory)
        #expect(secondPCSCD.count == 1 && secondPCSCD != firstPCSCD)
        for index in 0..<2 { #expect(stack.waitUntilPowered(reader: index, timeout: .zero)) }
        for name in stack.readerNames { #expect(try Support.waitForPresence(stack, reader: name, present: true)) }

        try stack.restartPCSCD()
        for name in stack.readerNames { #expect(try Support.waitForPresence(stack, reader: name, present: true)) }
    }

    @Test func twoStacksRunInParallelEachWithItsOwnCards() async throws {
        let first = VirtualStack(directory: Support.makeDirectory(), readerCount: 1)
        let second = VirtualStack(directory: Support.makeDirectory(), readerCount: 2)
        defer {
            first.stop()
            second.stop()
        }
        async let startFirst: Void = first.start(cards: [TestCards.card()])
        async let startSecond: Void = second.start(cards: [nil, TestCards.card()])
        _ = try await (startFirst, startSecond)
        #expect(first.socketPath != second.socketPath)
        #expect(Set(first.readerPorts).isDisjoint(with: second.readerPorts))

        let seenByFirst = try Support.openscReaders(first)
        let seenBySecond = try Support.openscReaders(second)
        #expect(seenByFirst == ["Virtual CPS Reader 0 00 00": true, "Virtual CPS Reader 0 00 01": false])
        #expect(seenBySecond == ["Virtual CPS Reader 0 00 00": false, "Virtual CPS Reader 0 00 01": true])
    }

    /// Latency is measured by `cpsctl bench apdu`, not asserted here; this checks that a burst of APDUs from
    /// a stock PC/SC client all come back answered by the virtual CPS3.
    @Test func burstOfAPDUsIsAnswered() throws {
        let stack = VirtualStack(directory: Support.makeDirectory(), readerCount: 1)
        defer { stack.stop() }
        try stack.start(cards: [TestCards.card()])
        let count = 200
        let sends = (0..<count).flatMap { _ in ["-s", "00A4000C023F00"] }
        let result = try Support.run(
            "/usr/bin/opensc-tool", ["-r", stack.readerNames[0], "-c", "default"] + sends,
            environment: stack.environment)
        #expect(result.output.components(separatedBy: "SW1=0x90, SW2=0x00").count - 1 == count)
    }
}
