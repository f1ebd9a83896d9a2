import PKCS11Constants
import SmartCardCore
import CardTestSupport
import Foundation
import Glibc
import PKCS11
import Synchronization
import Testing
import VirtualCard

@testable import P11KitServer

/// More of the C layer through pkcs11-tool and p11-kit-client.so: info structures, mechanisms,
/// attributes, PIN management, the authentication key.
@Suite("pkcs11-tool through p11-kit-client.so", .serialized)
struct ClientToolTests {
    @Test func everyFunctionListEntryIsSet() {
        #expect(FunctionList.nullEntries == 0)
        #expect(FunctionList.version == [2, 40])
    }

    @Test func infoMechanismsAndObjects() async throws {
        try await onThread {
            let running = try SocketServerTests.Running()
            defer { running.stop() }
            let info = try running.tool("-I")
            #expect(info.stdout.contains("cpsd"), "\(info.output)")
            let mechanisms = try running.tool("-M")
            #expect(mechanisms.stdout.contains("RSA-PKCS"), "\(mechanisms.output)")
            #expect(mechanisms.stdout.contains("SHA1-RSA-PKCS"))
            #expect(mechanisms.stdout.contains("SHA256-RSA-PKCS"))
            let token = try running.tool("-T")
            #expect(token.stdout.contains("ASIP SANTE"), "\(token.output)")
            #expect(token.stdout.contains("login required"))
            let publicObjects = try running.tool("-O")
            #expect(publicObjects.stdout.contains("Certificat d'Authentification CPS"), "\(publicObjects.output)")
            #expect(!publicObjects.stdout.contains("Private Key Object"))
            let objects = try running.tool("--login --pin 1234 -O")
            #expect(objects.status == 0, "\(objects.output)")
            #expect(objects.stdout.components(separatedBy: "Private Key Object").count == 3)
            #expect(objects.stdout.contains("CPS_PRIV_AUT"))
            #expect(objects.stdout.contains("Certificat de Signature CPS"))
        }
    }

    @Test func changeAndUnlockPIN() async throws {
        try await onThread {
            let running = try SocketServerTests.Running()
            defer { running.stop() }
            let change = try running.tool("--change-pin --pin 1234 --new-pin 5678")
            #expect(change.status == 0, "\(change.output)")
            #expect(running.cards.card?.state.pin.value == Array("5678".utf8))
            for _ in 0..<3 { _ = try running.tool("--login --pin 0000 -O") }
            #expect(running.cards.card?.state.pin.triesLeft == 0)
            let unlock = try running.tool("--init-pin --login --login-type so --so-pin 12345678 --new-pin 1234")
            #expect(unlock.status == 0, "\(unlock.output)")
            #expect(running.cards.card?.state.pin.triesLeft == 3)
            #expect(running.cards.card?.state.pin.value == Array("1234".utf8))
        }
    }

    @Test func authenticationKeySignsADigestInfo() async throws {
        try await onThread {
            let running = try SocketServerTests.Running()
            defer { running.stop() }
            let keyID = try #require(
                running.cards.slots().first?.token?.privateKeys.first { $0.role == .authentication }?.id)
            let hexID = keyID.map { String(format: "%02x", $0) }.joined()
            let message = Array("TLS client auth".utf8)
            let input = running.directory.appendingPathComponent("digestinfo").path
            let output = running.directory.appendingPathComponent("signature").path
            try Data(Fixture.digestInfoSHA256(message)).write(to: URL(fileURLWithPath: input))
            let sign = try running.tool("--login --pin 1234 --sign --id \(hexID) -m RSA-PKCS -i \(input) -o \(output)")
            #expect(sign.status == 0, "\(sign.output)")
            let refused = try running.tool(
                "--login --pin 1234 --sign --id \(hexID) -m SHA256-RSA-PKCS -i \(input) -o \(output)")
            #expect(refused.output.contains("CKR_KEY_TYPE_INCONSISTENT"), "\(refused.output)")
            #expect(running.audits.records.withLock { $0.map(\.result) } == [.ok])
        }
    }
}

@Suite("Clients that go away", .serialized)
struct ClientGoneTests {
    @Test func aKilledClientLoggedInLeavesNothingBehind() async throws {
        try await onThread {
            let running = try SocketServerTests.Running()
            defer { running.stop() }
            let keyID = try #require(running.cards.slots().first?.token?.privateKeys.first { $0.role == .signature }?.id)
            let hexID = keyID.map { String(format: "%02x", $0) }.joined()
            let fifo = running.directory.appendingPathComponent("never-written").path
            #expect(mkfifo(fifo, 0o600) == 0)
            // Logs in, then blocks opening the input: SIGKILLed once its login reached the card (not after a
            // fixed time, which a loaded machine can outlast before the login).
            let client = Process()
            client.executableURL = URL(fileURLWithPath: "/usr/bin/pkcs11-tool")
            client.arguments = [
                "--module", SocketServerTests.clientModule, "--login", "--pin", "1234", "--sign", "--id", hexID,
                "-m", "SHA256-RSA-PKCS", "-i", fifo, "-o", "/dev/null",
            ]
            client.environment = ProcessInfo.processInfo.environment.merging(running.environment) { $1 }
            client.standardOutput = FileHandle.nullDevice
            client.standardError = FileHandle.nullDevice
            try client.run()
            let deadline = Date().addingTimeInterval(60)
            while running.cards.verifyCount == 0, client.isRunning, Date() < deadline { usleep(20_000) }
            kill(client.processIdentifier, SIGKILL)
            client.waitUntilExit()
            #expect(client.terminationReason == .uncaughtSignal, "pkcs11-tool ended by itself before its kill")
            running.waitForNoClients()
            #expect(try !running.cards.isCardVerified)
            #expect(running.cards.endedClients.count >= 1)
            #expect(running.cards.verifyCount == 1)
            // The next client starts from scratch: not logged in.
            let objects = try running.tool("-O")
            #expect(!objects.stdout.contains("Private Key Object"))
        }
    }

    @Test func p11toolListsAndTestSigns() async throws {
        try await onThread {
            let running = try SocketServerTests.Running()
            defer { running.stop() }
            let provider = "--provider \(SocketServerTests.clientModule)"
            let tokens = try ToolRunner.shell("p11tool \(provider) --list-tokens", environment: running.environment)
            #expect(tokens.stdout.contains("CPS3v3-"), "\(tokens.output)")
            let certificates = try ToolRunner.shell(
                "p11tool \(provider) --list-all-certs 'pkcs11:manufacturer=ASIP%20SANTE'", environment: running.environment)
            #expect(certificates.stdout.contains("Certificat de Signature CPS"), "\(certificates.output)")
            let sign = try ToolRunner.shell(
                "GNUTLS_PIN=1234 p11tool \(provider) --login --test-sign 'pkcs11:object=CPS_PRIV_AUT;type=private'",
                environment: running.environment)
            #expect(sign.status == 0, "\(sign.output)")
        }
    }
}
