import ArgumentParser
import Foundation
import IASECC
import SmartCardCore

/// `cpsctl sign`: one signature with either key, for scripted tests and support. Mechanism names are
/// pkcs11-tool's.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a file with the card (asks for the PIN).",
        discussion: """
            RSA-PKCS signs the input as given: with --key auth, a DigestInfo (or other data: up to 102 bytes \
            on a CPS3, 245 on a CPS4); with --key sig, a SHA-1 or SHA-256 DigestInfo or bare digest. \
            SHA1-RSA-PKCS and SHA256-RSA-PKCS hash the input first (on a CPS3's signature key, the card \
            finishes the hash).
            """
    )

    enum Key: String, ExpressibleByArgument, CaseIterable { case auth, sig }
    enum Mechanism: String, ExpressibleByArgument, CaseIterable {
        case rsaPKCS = "RSA-PKCS"
        case sha1RSAPKCS = "SHA1-RSA-PKCS"
        case sha256RSAPKCS = "SHA256-RSA-PKCS"
    }

    @OptionGroup var card: CardOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "auth (CPS_PRIV_AUT) or sig (CPS_PRIV_SIG).")
    var key: Key

    @Option(name: .long, help: "RSA-PKCS, SHA1-RSA-PKCS or SHA256-RSA-PKCS.")
    var mechanism: Mechanism

    @Option(name: .customLong("in"), help: "File to sign.")
    var input: String

    @Option(name: .customLong("out"), help: "File to write the 256-byte signature to.")
    var output: String

    func run() async throws {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: input)))
        let request = try plan(data)
        if let route = daemon.route() { return try runViaDaemon(route, data: data) }
        let (status, driver) = try card.withDriver { session, driver in (try driver.readPINStatus(&session), driver) }
        do {
            try driver.validate(request)
        } catch {
            throw CLIError("This card cannot sign that: \(error.reason)")
        }
        guard !status.pin.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PIN")) }
        try secrets.confirmIfLastTry(status.pin, what: "PIN")
        let pin = try secrets.pin("PIN")
        try secrets.check(pin, length: driver.pinLength, what: "PIN")
        let signature = try card.withDriver { session, driver in
            try driver.verifyPIN(&session, pin)
            return try driver.sign(&session, request)
        }
        try Data(signature).write(to: URL(fileURLWithPath: output))
        FileHandle.standardError.write(Data("Signed \(data.count) bytes with \(key.rawValue) (\(mechanism.rawValue)).\n".utf8))
    }

    /// Decides, before any PIN is asked, what the card will be sent; bad input fails here. On the
    /// authentication key the host hashes and sends the DigestInfo with RSA-PKCS, which both generations sign.
    private func plan(_ data: [UInt8]) throws -> SignatureRequest {
        switch (key, mechanism) {
        case (.sig, .sha1RSAPKCS): return SignatureRequest(role: .signature, mechanism: .sha1RSAPKCS, data: data)
        case (.sig, .sha256RSAPKCS): return SignatureRequest(role: .signature, mechanism: .sha256RSAPKCS, data: data)
        case (.sig, .rsaPKCS):
            guard SignatureHash.parseDigestInfo(data) != nil || SignatureHash(digestLength: data.count) != nil else {
                throw CLIError("With --key sig, RSA-PKCS signs a SHA-1/SHA-256 DigestInfo or bare digest (20 or 32 bytes).")
            }
            return .rsaPKCS(role: .signature, input: data)
        case (.auth, .rsaPKCS):
            guard !data.isEmpty else { throw CLIError("With --key auth, RSA-PKCS signs at least 1 byte.") }
            return .rsaPKCS(role: .authentication, input: data)
        case (.auth, _):
            let hash: SignatureHash = mechanism == .sha1RSAPKCS ? .sha1 : .sha256
            return .rsaPKCS(role: .authentication, input: Self.digestInfo(of: data, hash: hash))
        }
    }

    /// Hashes on the host: RSA-PKCS on the authentication key signs the DigestInfo it is given.
    static func digestInfo(of data: [UInt8], hash: SignatureHash) -> [UInt8] {
        hash.digestInfoPrefix + hash.digest(of: data)
    }
}
