import CardTestSupport
import Crypto
import Foundation
import Glibc
import P11KitServer
import PKCS11
import PKCS11Constants
import SmartCardCore
import SwiftASN1
import Synchronization
import Testing
import VirtualCard
import X509
import _CryptoExtras

/// The server end to end: the stock p11-kit-client.so in pkcs11-tool, over a real Unix socket.
@Suite("PKCS11SocketServer with p11-kit-client.so", .serialized)
struct SocketServerTests {
    static let clientModule = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"

    struct Running {
        let cards: DaemonToken
        let server: PKCS11SocketServer
        let directory: URL
        let audits = AuditLog()
        var socketPath: String { directory.appendingPathComponent("pkcs11.sock").path }
        var environment: [String: String] { ["P11_KIT_SERVER_ADDRESS": "unix:path=\(socketPath)"] }

        init(state: CardState = TestCards.defaultState) throws {
            cards = try DaemonToken(state: state)
            directory = TestCards.temporaryDirectory("cpsd-p11")
            let audits = self.audits
            server = PKCS11SocketServer(
                socketPath: directory.appendingPathComponent("pkcs11.sock").path, cards: cards,
                audit: { audit in audits.records.withLock { $0.append(audit) } })
            try server.start()
        }

        func stop() {
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        func tool(_ arguments: String) throws -> ToolRunner.Result {
            try ToolRunner.shell(
                "pkcs11-tool --module \(SocketServerTests.clientModule) \(arguments)", environment: environment)
        }

        /// Waits until every client thread has ended (their connections closed). Blocks: call it on the
        /// test's dedicated thread.
        func waitForNoClients() {
            for _ in 0..<200 where server.connectionCount > 0 { Thread.sleep(forTimeInterval: 0.01) }
            #expect(server.connectionCount == 0)
        }
    }

    @Test func listsTheTokenAndSignsThroughP11KitClient() async throws {
        try await onThread {
            let running = try Running()
            defer { running.stop() }
            let mode = try FileManager.default.attributesOfItem(atPath: running.socketPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let list = try running.tool("-L")
            #expect(list.status == 0, "\(list.output)")
            #expect(list.stdout.contains("CPS3v3-"))
            #expect(list.stdout.contains(DaemonToken.readerName))
            let input = running.directory.appendingPathComponent("message").path
            let output = running.directory.appendingPathComponent("signature").path
            let message = Array("signed through p11-kit".utf8)
            try Data(message).write(to: URL(fileURLWithPath: input))
            let keyID = try #require(running.cards.slots().first?.token?.privateKeys.first { $0.role == .signature }?.id)
            let hexID = keyID.map { String(format: "%02x", $0) }.joined()
            let sign = try running.tool(
                "--login --pin 1234 --sign --id \(hexID) -m SHA256-RSA-PKCS -i \(input) -o \(output)")
            #expect(sign.status == 0, "\(sign.output)")
            let signature = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
            let certificate = try Certificate(derEncoded: try #require(running.cards.card?.state.signatureCertificateDER))
            let publicKey = try #require(_RSA.Signing.PublicKey(certificate.publicKey))
            #expect(publicKey.verifies(signature, sha256: message))
            running.waitForNoClients()
            let audits = running.audits.records.withLock { $0 }
            #expect(audits.count == 1)
            #expect(audits.first?.keyLabel == "CPS_PRIV_SIG")
            #expect(audits.first?.mechanism == .sha256RSAPKCS)
            #expect(audits.first?.result == .ok)
            #expect(audits.first?.peer?.pid ?? 0 > 0)
            #expect(audits.first?.peer?.executable?.hasSuffix("pkcs11-tool") == true)
        }
    }

    @Test func wrongPINThroughTheClient() async throws {
        try await onThread {
            let running = try Running()
            defer { running.stop() }
            let login = try running.tool("--login --pin 9999 -O")
            #expect(login.status != 0)
            #expect(login.output.contains("CKR_PIN_INCORRECT"))
            #expect(running.cards.card?.state.pin.triesLeft == 2)
        }
    }

    @Test func aMalformedFrameEndsOnlyThatClient() async throws {
        try await onThread {
            let running = try Running()
            defer { running.stop() }
            let fd = try Self.connect(running.socketPath)
            // Version byte, then a frame header naming no call p11-kit knows, and junk.
            let garbage: [UInt8] = [0, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 4, 0xDE, 0xAD, 0xBE, 0xEF]
            #expect(write(fd, garbage, garbage.count) == garbage.count)
            let list = try running.tool("-L")
            #expect(list.status == 0, "\(list.output)")
            #expect(list.stdout.contains("CPS3v3-"))
            close(fd)
            running.waitForNoClients()
        }
    }

    @Test func stopDisconnectsClientsAndRemovesTheSocket() async throws {
        try await onThread {
            let running = try Running()
            let fd = try Self.connect(running.socketPath)
            for _ in 0..<200 where running.server.connectionCount == 0 { Thread.sleep(forTimeInterval: 0.01) }
            #expect(running.server.connectionCount == 1)
            running.stop()
            #expect(running.server.connectionCount == 0)
            #expect(!FileManager.default.fileExists(atPath: running.socketPath))
            var byte: UInt8 = 0
            #expect(read(fd, &byte, 1) <= 0)
            close(fd)
        }
    }

    @Test func aSecondServerDoesNotStealALiveSocket() async throws {
        try await onThread {
            let running = try Running()
            defer { running.stop() }
            let second = PKCS11SocketServer(socketPath: running.socketPath, cards: running.cards)
            #expect(throws: PKCS11SocketServerError(.addressInUse, "")) { try second.start() }
        }
    }

    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(result == 0)
        return fd
    }
}

final class AuditLog: Sendable {
    let records = Mutex<[SignAudit]>([])
}
