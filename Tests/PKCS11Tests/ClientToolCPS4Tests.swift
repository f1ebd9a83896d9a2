import CardTestSupport
import Crypto
import Foundation
import PKCS11
import PKCS11Constants
import SmartCardCore
import SwiftASN1
import Testing
import VirtualCard
import X509
import _CryptoExtras

/// The new mechanisms through the C layer and the stock p11-kit-client.so: CK_RSA_PKCS_PSS_PARAMS as
/// p11-kit's server hands it over, and C_DecryptInit/C_Decrypt.
@Suite("pkcs11-tool through p11-kit-client.so: CPS4 PSS and decryption", .serialized)
struct ClientToolCPS4Tests {
    static func authenticationKeyID(_ running: SocketServerTests.Running) throws -> String {
        let keyID = try #require(
            running.cards.slots().first?.token?.privateKeys.first { $0.role == .authentication }?.id)
        return keyID.map { String(format: "%02x", $0) }.joined()
    }

    @Test func signsRSAPSSWithTheParametersGiven() async throws {
        try await onThread {
            let running = try SocketServerTests.Running(state: TestCards.cps4State())
            defer { running.stop() }
            let id = try Self.authenticationKeyID(running)
            let message = Array("TLS 1.3 CertificateVerify".utf8)
            let input = running.directory.appendingPathComponent("digest").path
            let output = running.directory.appendingPathComponent("signature").path
            try Data(SHA256.hash(data: message)).write(to: URL(fileURLWithPath: input))
            let pss = "-m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256"
            let sign = try running.tool("--login --pin 1234 --sign --id \(id) \(pss) -i \(input) -o \(output)")
            #expect(sign.status == 0, "\(sign.output)")
            let signature = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
            let certificate = try #require(
                running.cards.slots().first?.token?.certificates.first { $0.role == .authentication })
            let publicKey = try Self.publicKey(certificate.der)
            #expect(publicKey.verifiesPSS(signature, message: message, hash: .sha256))
            // A salt the card cannot make is refused at C_SignInit.
            let refused = try running.tool(
                "--login --pin 1234 --sign --id \(id) \(pss) --salt-len 20 -i \(input) -o \(output)")
            #expect(refused.output.contains("CKR_MECHANISM_PARAM_INVALID"), "\(refused.output)")
        }
    }

    @Test func decryptsThroughTheClient() async throws {
        try await onThread {
            let running = try SocketServerTests.Running(state: TestCards.cps4State())
            defer { running.stop() }
            let id = try Self.authenticationKeyID(running)
            let certificate = try #require(
                running.cards.slots().first?.token?.certificates.first { $0.role == .authentication })
            let key = try _RSA.Encryption.PublicKey(derRepresentation: Self.publicKey(certificate.der).derRepresentation)
            let message = Array("a key to unwrap".utf8)
            let input = running.directory.appendingPathComponent("cryptogram").path
            let output = running.directory.appendingPathComponent("plaintext").path
            try key.encrypt(message, padding: ._WEAK_AND_INSECURE_PKCS_V1_5).write(to: URL(fileURLWithPath: input))
            let decrypt = try running.tool("--login --pin 1234 --decrypt --id \(id) -m RSA-PKCS -i \(input) -o \(output)")
            #expect(decrypt.status == 0, "\(decrypt.output)")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: output))) == message)
        }
    }

    static func publicKey(_ der: [UInt8]) throws -> _RSA.Signing.PublicKey {
        try #require(_RSA.Signing.PublicKey(Certificate(derEncoded: der).publicKey))
    }
}
