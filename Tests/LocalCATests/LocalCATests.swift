import Foundation
import LocalCA
import SwiftASN1
import Testing
import X509

@Suite("Local CA for the bridge")
struct LocalCATests {
    private func temporaryDirectory() -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("localca-\(UUID().uuidString)")
        return url
    }

    @Test("the CA is constrained to the loopback names, critically, and may not issue sub-CAs")
    func caConstraints() throws {
        let identity = try LocalCertificateAuthority.issue(commonName: "cpsd bridge")
        let extensions = identity.caCertificate.extensions
        let constraints = try #require(try extensions.nameConstraints)
        #expect(Array(constraints.permittedDNSDomains) == ["localhost"])
        let ranges = constraints.permittedIPRanges.map { Array($0.bytes) }
        #expect(ranges == [[127, 0, 0, 1, 255, 255, 255, 255], Array(repeating: 0, count: 15) + [1] + Array(repeating: 255, count: 16)])
        #expect(extensions.first { $0.oid == .X509ExtensionID.nameConstraints }?.critical == true)
        #expect(try extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
    }

    @Test("the leaf names localhost, 127.0.0.1 and ::1, is for serverAuth, and is signed by the CA")
    func leaf() throws {
        let identity = try LocalCertificateAuthority.issue(commonName: "cpsd bridge")
        let names = try #require(try identity.certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(try identity.certificate.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try identity.certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(identity.caCertificate.publicKey.isValidSignature(identity.certificate.signature, for: identity.certificate))
        #expect(identity.certificate.issuer == identity.caCertificate.subject)
    }

    @Test("OpenSSL accepts the leaf for 127.0.0.1, ::1 and localhost, and refuses it for another name")
    func opensslVerifies() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = LocalIdentityStore(directory: directory)
        _ = try store.loadOrCreate()
        for check in ["-verify_ip 127.0.0.1", "-verify_ip ::1", "-verify_hostname localhost"] {
            let result = try openssl("verify -CAfile \(store.caPath) \(check) \(store.certificatePath)")
            #expect(result.status == 0, "\(check): \(result.output)")
        }
        let refused = try openssl("verify -CAfile \(store.caPath) -verify_hostname evil.example \(store.certificatePath)")
        #expect(refused.status != 0)
    }

    @Test("the store makes the identity once, keeps the key 0600 and no CA key anywhere")
    func storeOnce() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = LocalIdentityStore(directory: directory)
        let first = try store.loadOrCreate()
        #expect(first.created)
        let second = try store.loadOrCreate()
        #expect(!second.created)
        #expect(second.identity.certificate == first.identity.certificate)
        let keyMode = try FileManager.default.attributesOfItem(atPath: store.keyPath)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["bridge-key.pem", "bridge.pem", "ca.pem"])
        let privateBlocks = try files.map { try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }
            .map { $0.components(separatedBy: "PRIVATE KEY-----").count / 2 }.reduce(0, +)
        #expect(privateBlocks == 1, "only the leaf's key is stored")
    }

    @Test("a new CA is made when the certificate nears expiry or the key file is damaged")
    func renewal() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = LocalIdentityStore(directory: directory)
        let first = try store.loadOrCreate()
        let later = first.identity.certificate.notValidAfter.addingTimeInterval(-86_400)
        let renewed = try store.loadOrCreate(now: later)
        #expect(renewed.created)
        #expect(renewed.identity.caCertificate != first.identity.caCertificate)
        try "garbage".write(toFile: store.keyPath, atomically: true, encoding: .utf8)
        let repaired = try store.loadOrCreate(now: later)
        #expect(repaired.created)
        #expect(store.load() != nil)
    }

    private func openssl(_ arguments: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "openssl \(arguments) 2>&1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
