import Foundation
import SwiftASN1
import Testing
import VirtualCard
import X509

@Suite("Card store")
struct CardStoreTests {
    /// A state with fake key and certificate bytes: the store does not look inside them.
    static func syntheticState(serial: String = "1234567890") -> CardState {
        CardState(
            serial: serial, holder: .testDefault,
            pin: Credential(value: Array("1234".utf8)), puk: Credential(value: Array("12345678".utf8), triesLeft: 1),
            unblocksLeft: 7, unblocksMax: 10,
            signatureKeyDER: [1, 2, 3], authenticationKeyDER: [4, 5, 6],
            signatureCertificateDER: [7, 8], authenticationCertificateDER: [9],
            caChainDER: [[10, 11], [12]])
    }

    func withDirectory(_ body: (URL) throws -> Void) rethrows {
        let directory = ProvisioningFixtures.temporaryDirectory().appendingPathComponent("card")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try body(directory)
    }

    func mode(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return try #require(attributes[.posixPermissions] as? Int) & 0o777
    }

    func expectLoadFails(_ store: CardStore, _ code: CardStoreError.Code) {
        let error = #expect(throws: CardStoreError.self) { try store.load() }
        #expect(error?.code == code, "\(String(describing: error))")
    }

    @Test("save then load round-trips, with a 0700 directory and a 0600 file")
    func roundTrip() throws {
        try withDirectory { directory in
            let store = CardStore(directory: directory)
            #expect(!CardStore.exists(at: directory))
            var state = Self.syntheticState()
            try store.save(state)
            #expect(CardStore.exists(at: directory))
            #expect(try store.load() == state)
            #expect(try mode(directory) == 0o700)
            #expect(try mode(store.stateURL) == 0o600)
            state.pin.triesLeft = 2
            state.unblocksLeft = 6
            try store.save(state)
            #expect(try store.load() == state)
            #expect(try mode(store.stateURL) == 0o600)
        }
    }

    @Test("save is atomic: it replaces the file and leaves no temporary file behind")
    func atomicSave() throws {
        try withDirectory { directory in
            let store = CardStore(directory: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data("stale".utf8).write(to: store.stateURL)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: store.stateURL.path)
            for tries in (0...3).reversed() {
                var state = Self.syntheticState()
                state.pin.triesLeft = tries
                try store.save(state)
                #expect(try store.load().pin.triesLeft == tries)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [CardStore.stateFileName])
            #expect(try mode(store.stateURL) == 0o600)
        }
    }

    @Test("a missing state is reported as missing")
    func missing() {
        withDirectory { directory in
            expectLoadFails(CardStore(directory: directory), .missing)
        }
    }

    @Test("an unreadable state is reported as unreadable")
    func unreadable() throws {
        try withDirectory { directory in
            let store = CardStore(directory: directory)
            try FileManager.default.createDirectory(at: store.stateURL, withIntermediateDirectories: true)
            expectLoadFails(store, .unreadable)
        }
    }

    @Test("malformed JSON is rejected", arguments: ["not json", "{", "[]", #"{"formatVersion": 1}"#, #"{"serial": "1"}"#])
    func malformed(text: String) throws {
        try withDirectory { directory in
            let store = CardStore(directory: directory)
            try store.save(Self.syntheticState())
            try Data(text.utf8).write(to: store.stateURL)
            expectLoadFails(store, .malformed)
        }
    }

    @Test("a future format version is rejected as unsupported")
    func futureVersion() throws {
        try withDirectory { directory in
            let store = CardStore(directory: directory)
            var state = Self.syntheticState()
            state.formatVersion = CardState.currentFormatVersion + 1
            try store.save(state)
            expectLoadFails(store, .unsupportedFormatVersion)
            try Data(#"{"formatVersion": 99, "somethingNew": true}"#.utf8).write(to: store.stateURL)
            expectLoadFails(store, .unsupportedFormatVersion)
        }
    }

    @Test("initialize writes the state and the PEM certificates, once")
    func initialize() throws {
        let card = try ProvisioningFixtures.defaultCard.get()
        try withDirectory { directory in
            let store = CardStore(directory: directory)
            try store.initialize(card)
            #expect(try store.load() == card)
            let pem = { (name: String) in try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) }
            let auth = try Certificate(pemEncoded: pem(CardStore.authenticationCertificateFileName))
            #expect(try TestCertificateAuthority.der(auth) == card.authenticationCertificateDER)
            let sig = try Certificate(pemEncoded: pem(CardStore.signatureCertificateFileName))
            #expect(try TestCertificateAuthority.der(sig) == card.signatureCertificateDER)
            let root = try pem(CardStore.rootFileName).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(root == TestPKIMaterial.rootCertificatePEM)
            let chain = try pem(CardStore.chainFileName)
            #expect(chain.components(separatedBy: "-----BEGIN CERTIFICATE-----").count == 3)
            #expect(chain.hasPrefix(TestPKIMaterial.intermediateCertificatePEM))
            let error = #expect(throws: CardStoreError.self) { try store.initialize(card) }
            #expect(error?.code == .alreadyExists)
        }
    }
}
