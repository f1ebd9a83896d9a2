import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualReaderStack

/// `cps-vcard` as a process: the stack command, its control input, and what is left after its death.
@Suite("cps-vcard processes")
struct StackProcessTests {
    typealias Support = StackTestSupport

    /// A running `cps-vcard stack` with its stdin, and the environment it printed before `ready`.
    final class StackProcess {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        let directory: URL
        var environment: [String: String] = [:]

        init(arguments: [String]) throws {
            directory = Support.makeDirectory()
            let tool = try #require(Support.cpsVCardPath, "cps-vcard is not built")
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["stack", "--dir", directory.path] + arguments
            process.standardInput = input
            process.standardOutput = output
            FileManager.default.createFile(atPath: directory.path + ".stderr", contents: nil)
            process.standardError = FileHandle(forWritingAtPath: directory.path + ".stderr")
            try process.run()
            try readUntilReady()
        }

        private func readUntilReady() throws {
            var text = ""
            while !text.hasSuffix("ready\n") {
                let chunk = output.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw StackTestFailure("cps-vcard stack ended early: \(text)") }
                text += String(decoding: chunk, as: UTF8.self)
            }
            for line in text.split(separator: "\n") where line.hasPrefix("export ") {
                let assignment = line.dropFirst("export ".count)
                guard let equals = assignment.firstIndex(of: "=") else { continue }
                environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
                    .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            }
        }

        func send(_ line: String) {
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
        }

        /// Reader name → card present, from `opensc-tool -l` with the printed environment.
        func readers() throws -> [String: Bool] {
            let result = try Support.run("/usr/bin/opensc-tool", ["-l"], environment: environment)
            var readers: [String: Bool] = [:]
            for line in result.output.split(separator: "\n") {
                guard let start = line.range(of: "Virtual CPS Reader") else { continue }
                readers[String(line[start.lowerBound...])] = line.contains(" Yes ")
            }
            return readers
        }

        func waitFor(_ reader: String, present: Bool) throws -> Bool {
            let deadline = Date(timeIntervalSinceNow: 5)
            repeat {
                if try readers()[reader] == present { return true }
                usleep(100_000)
            } while Date() < deadline
            return false
        }
    }

    struct StackTestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func aSIGKILLedOwnerLeavesNothingRunning() throws {
        let stack = try StackProcess(arguments: ["--readers", "2"])
        #expect(Support.pcscdProcesses(stack.directory).count == 1)
        kill(stack.process.processIdentifier, SIGKILL)
        stack.process.waitUntilExit()
        #expect(Support.waitForNoPCSCD(stack.directory))
        #expect(Support.waitForNothingRunning(stack.directory).isEmpty)
    }

    @Test func stackCommandPrintsTheEnvironmentAndTakesCommands() throws {
        let stack = try StackProcess(arguments: ["--readers", "2"])
        let socket = try #require(stack.environment["PCSCLITE_CSOCK_NAME"])
        #expect(socket == stack.directory.path + "/run/pcscd.comm")
        #expect(stack.environment["CPSD_VIRTUAL_READERS"] == "Virtual CPS Reader 0 00 00,Virtual CPS Reader 0 00 01")
        #expect(try stack.readers() == ["Virtual CPS Reader 0 00 00": true, "Virtual CPS Reader 0 00 01": true])

        stack.send("remove 1")
        #expect(try stack.waitFor("Virtual CPS Reader 0 00 01", present: false))
        stack.send("insert 1")
        #expect(try stack.waitFor("Virtual CPS Reader 0 00 01", present: true))
        stack.send("restart-pcscd")
        usleep(300_000)
        #expect(try stack.waitFor("Virtual CPS Reader 0 00 00", present: true))
        #expect(try stack.waitFor("Virtual CPS Reader 0 00 01", present: true))

        kill(stack.process.processIdentifier, SIGTERM)
        stack.process.waitUntilExit()
        #expect(stack.process.terminationStatus == 0)
        #expect(Support.pcscdProcesses(stack.directory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func runCommandPlugsAStateDirectoryCardIntoAReader() throws {
        let tool = try #require(Support.cpsVCardPath, "cps-vcard is not built")
        let stateDirectory = Support.makeDirectory().appendingPathComponent("card")
        let created = try Support.run(tool, ["init", "--state", stateDirectory.path])
        #expect(created.status == 0)
        let again = try Support.run(tool, ["init", "--state", stateDirectory.path])
        #expect(again.status != 0, "init must refuse to overwrite a card without --force")

        let stack = VirtualStack(directory: Support.makeDirectory(), readerCount: 1)
        defer { stack.stop() }
        try stack.start(cards: [])
        let reader = stack.readerNames[0]
        let card = Process()
        card.executableURL = URL(fileURLWithPath: tool)
        card.arguments = ["run", "--state", stateDirectory.path, "--vpcd", "127.0.0.1:\(stack.readerPorts[0])"]
        card.standardInput = Pipe()
        card.standardError = FileHandle.nullDevice
        try card.run()
        defer { if card.isRunning { kill(card.processIdentifier, SIGKILL) } }
        #expect(try Support.waitForPresence(stack, reader: reader, present: true))
        kill(card.processIdentifier, SIGUSR1)
        #expect(try Support.waitForPresence(stack, reader: reader, present: false))
        kill(card.processIdentifier, SIGUSR2)
        #expect(try Support.waitForPresence(stack, reader: reader, present: true))
        kill(card.processIdentifier, SIGTERM)
        card.waitUntilExit()
        #expect(card.terminationStatus == 0)
        #expect(try Support.waitForPresence(stack, reader: reader, present: false))
    }
}
