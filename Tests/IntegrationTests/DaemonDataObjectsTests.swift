import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// The CPS business data objects end to end (issue 12 item 1): the stock p11-kit client with pkcs11-tool and
/// PyKCS11 against cpsd on the real stack, on a CPS3 and a CPS4, then Cryptolib 5.2.2 on the same card: every
/// object has the bytes Cryptolib returns, the private ones only after a login, and a CPS_DATA written through
/// cpsd (C_SetAttributeValue) is what Cryptolib reads back from the card.
@Suite(.serialized) struct DaemonDataObjectsTests {
    static let publicLabels = ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_LANG_PS", "CPS_INFO_PS"]
    static let privateLabels = ["CPS_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_01_PS", "CPS_SIT_FACT"]

    static let setCPSDataScript = """
        import sys, PyKCS11
        lib = PyKCS11.PyKCS11Lib()
        lib.load(sys.argv[1])
        session = lib.openSession(lib.getSlotList(tokenPresent=True)[0], PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
        session.login(sys.argv[2])
        data = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_LABEL, "CPS_DATA")])[0]
        session.setAttributeValue(data, [(PyKCS11.CKA_VALUE, sys.argv[3].encode())])
        session.logout()
        """

    static func fileName(_ label: String, _ prefix: String) -> String { "\(prefix)-\(label).bin" }

    static func contents(_ name: String, _ directory: URL) -> [UInt8] {
        (try? Data(contentsOf: directory.appendingPathComponent(name))).map { Array($0) } ?? []
    }

    @Test(arguments: ["CPS3", "CPS4"])
    func theSameBytesAsCryptolib(generation: String) async throws {
        let state = generation == "CPS4" ? TestCards.cps4State() : TestCards.defaultState
        let directory = TestCards.temporaryDirectory("cpsd-data-objects")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await DaemonTest.withDaemon(cards: [state]) { stack, daemon in
            let before = try DaemonTest.tool(daemon, ["-O"])
            for label in Self.publicLabels { #expect(before.stdout.contains("'\(label)'"), "\(label):\n\(before.output)") }
            for label in Self.privateLabels { #expect(!before.stdout.contains("'\(label)'"), "\(label) before login") }
            let after = try DaemonTest.tool(daemon, ["--login", "--pin", "1234", "-O"])
            for label in Self.publicLabels + Self.privateLabels {
                #expect(after.stdout.contains("'\(label)'"), "\(label) after login:\n\(after.output)")
            }
            // cpsd's bytes, each object read through the p11-kit client.
            for label in Self.publicLabels + Self.privateLabels {
                let login = Self.privateLabels.contains(label) ? ["--login", "--pin", "1234"] : []
                let path = directory.appendingPathComponent(Self.fileName(label, "cpsd")).path
                let read = try DaemonTest.tool(
                    daemon, login + ["--read-object", "--type", "data", "--label", label, "-o", path])
                #expect(read.status == 0, "\(label): \(read.output)")
            }
            // A write through cpsd: zero-padded to the file, on the card itself.
            let script = directory.appendingPathComponent("set.py")
            try Self.setCPSDataScript.write(to: script, atomically: true, encoding: .utf8)
            let value = "written by cpsd on a \(generation)"
            let write = try ToolRunner.run(
                DaemonTest.python, [script.path, DaemonProcess.clientModule, "1234", value],
                environment: daemon.environment)
            #expect(write.status == 0, "\(write.output)")
            let size = Self.contents(Self.fileName("CPS_DATA", "cpsd"), directory).count
            let padded = Array(value.utf8) + [UInt8](repeating: 0, count: max(0, size - value.utf8.count))
            #expect(stack.cards[0].state.cpsData == padded)
            let readBack = directory.appendingPathComponent("cpsd-written.bin").path
            _ = try DaemonTest.tool(daemon, ["--read-object", "--type", "data", "--label", "CPS_DATA", "-o", readBack])
            #expect(Self.contents("cpsd-written.bin", directory) == padded)

            // Cryptolib on the same card: the same bytes for every object, the written CPS_DATA included.
            if let missing = Cryptolib.missing {
                Issue.record("missing \(missing)")
                return
            }
            let reads = (Self.publicLabels + Self.privateLabels).map { label in
                let login = Self.privateLabels.contains(label) ? "--login --pin 1234 " : ""
                return "\(Cryptolib.tool) \(login)--read-object --type data --label \(label) -o \(Self.fileName(label, "cryptolib"))"
            }
            let run = try Cryptolib.run(reads.joined(separator: "\n"), stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            for label in Self.publicLabels + Self.privateLabels {
                let theirs = Self.contents(Self.fileName(label, "cryptolib"), directory)
                let ours = label == "CPS_DATA" ? padded : Self.contents(Self.fileName(label, "cpsd"), directory)
                #expect(!theirs.isEmpty && ours == theirs, "\(label): cpsd \(ours.count) bytes, Cryptolib \(theirs.count)")
            }
        }
    }
}
