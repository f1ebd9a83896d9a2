import CardTestSupport
import Foundation
import Testing
import VirtualReaderStack

/// `VirtualStack.restartPCSCD(readerCount:)`, which the daemon suites use to make a reader appear.
@Suite("virtual stack: pcscd restarted with more readers")
struct DaemonReaderStackTests {
    @Test("restarting with 2 of 4 readers hides the second vpcd entry; with 4 it comes back with its card")
    func readersComeAndGoWithTheConfiguration() async throws {
        let directory = StackTestSupport.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await RealStack.withStack { _ in  // one heavy stack at a time
            let stack = VirtualStack(directory: directory, readerCount: 4)
            defer { stack.stop() }
            try stack.start(cards: [TestCards.card(), nil, TestCards.card()])
            let names = stack.readerNames
            #expect(try StackTestSupport.openscReaders(stack).count == 4)

            try stack.restartPCSCD(readerCount: 2)
            let two = try StackTestSupport.openscReaders(stack)
            #expect(Set(two.keys) == Set(names.prefix(2)), "\(two)")
            #expect(two[names[0]] == true)

            try stack.restartPCSCD(readerCount: 4)
            #expect(try StackTestSupport.waitForPresence(stack, reader: names[2], present: true))
            let four = try StackTestSupport.openscReaders(stack)
            #expect(Set(four.keys) == Set(names), "\(four)")
            #expect(four[names[3]] == false)
        }
        #expect(StackTestSupport.waitForNoPCSCD(directory))
    }
}
