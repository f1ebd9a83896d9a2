import ArgumentParser
import Foundation
import IASECC
import PartialHash
import SmartCardCore

/// `cpsctl sign`: one signature with either key, for scripted tests and support. Mechanism names are
/// pkcs11-tool's.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a file with the card (asks for the PIN).",
        discussion: """
            RSA-PKCS signs the input as given: with --key auth, a DigestInfo (or any data up to 102 bytes); \
            with --key sig, a SHA-1 or SHA-256 DigestInfo or bare digest. SHA1-RSA-PKCS and SHA256-RSA-PKCS \
            hash the input first (on the signature key, the card finishes the hash).
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

    @Option(name: .long, help: "auth (CPS_PRIV_AUT, 0x82) or sig (CPS_PRIV_SIG, 0x81).")
    var key: Key

    @Option(name: .long, help: "RSA-PKCS, SHA1-RSA-PKCS or SHA256-RSA-PKCS.")
    var mechanism: Mechanism

    @Option(name: .customLong("in"), help: "File to sign.")
    var input: String

    @Option(name: .customLong("out"), help: "File to write the 256-byte signature to.")
    var output: String

    func run() async throws {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: input)))
        let operation = try plan(data)
        if let route = daemon.route() { return try runViaDaemon(route, data: data) }
        let status = try card.withCard { try CPS3Driver.readPINStatus(&$0) }
        guard !status.pin.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PIN")) }
        try secrets.confirmIfLastTry(status.pin, what: "PIN")
        let pin = try secrets.pin("PIN")
        try secrets.check(pin, length: CPS3Driver.pinLength, what: "PIN")
        let signature = try card.withCard { session in
            try CPS3Driver.verifyPIN(&session, pin)
            return try operation(&session)
        }
        try Data(signature).write(to: URL(fileURLWithPath: output))
        FileHandle.standardError.write(Data("Signed \(data.count) bytes with \(key.rawValue) (\(mechanism.rawValue)).\n".utf8))
    }

    /// Decides, before any PIN is asked, what the card will be sent; bad input fails here.
    private func plan(_ data: [UInt8]) throws -> (inout CardSession) throws -> [UInt8] {
        switch (key, mechanism) {
        case (.sig, .sha1RSAPKCS), (.sig, .sha256RSAPKCS):
            let hash: SignatureHash = mechanism == .sha1RSAPKCS ? .sha1 : .sha256
            return { try CPS3Driver.signWithSignatureKey(&$0, message: data, hash: hash) }
        case (.sig, .rsaPKCS):
            guard let (hash, digest) = SignatureHash.parseDigestInfo(data) ?? Self.bareDigest(data) else {
                throw CLIError("With --key sig, RSA-PKCS signs a SHA-1/SHA-256 DigestInfo or bare digest (20 or 32 bytes).")
            }
            return { try CPS3Driver.signDigestWithSignatureKey(&$0, digest: digest, hash: hash) }
        case (.auth, .rsaPKCS):
            guard !data.isEmpty, data.count <= CPS3.maxInternalAuthenticateInput else {
                throw CLIError("With --key auth, RSA-PKCS signs 1 to \(CPS3.maxInternalAuthenticateInput) bytes.")
            }
            return { try CPS3Driver.signWithAuthenticationKey(&$0, input: data) }
        case (.auth, _):
            let hash: SignatureHash = mechanism == .sha1RSAPKCS ? .sha1 : .sha256
            let digestInfo = Self.digestInfo(of: data, hash: hash)
            return { try CPS3Driver.signWithAuthenticationKey(&$0, input: digestInfo) }
        }
    }

    /// Hashes on the host: the authentication key only signs what it is given (INTERNAL AUTHENTICATE).
    static func digestInfo(of data: [UInt8], hash: SignatureHash) -> [UInt8] {
        let digest: [UInt8]
        if hash == .sha1 {
            var state = SHA1State()
            state.update(data)
            digest = state.finalize()
        } else {
            var state = SHA256State()
            state.update(data)
            digest = state.finalize()
        }
        return hash.digestInfoPrefix + digest
    }

    private static func bareDigest(_ data: [UInt8]) -> (SignatureHash, [UInt8])? {
        SignatureHash.allCases.first { $0.digestLength == data.count }.map { ($0, data) }
    }
}
