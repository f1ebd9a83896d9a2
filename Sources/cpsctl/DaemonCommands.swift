import Foundation
import IASECC
import P11KitClient
import PKCS11Constants
import SmartCardCore

// The card commands through a running cpsd (PKCS#11 over p11-kit's RPC): the same checks and messages
// as the direct path, with the card's counters read from the token flags.

extension CardInfoCommand {
    func runViaDaemon(_ route: DaemonRoute) async throws {
        let daemonCard = try DaemonCard(route: route, reader: card.selection.reader)
        let report = try await CardReport(
            daemon: daemonCard, token: try daemonCard.tokenInfo(), certificates: try daemonCard.certificates(),
            trustStore: trust.load())
        print(json ? try report.jsonText() : report.text)
    }
}

extension CardCertsCommand {
    func runViaDaemon(_ route: DaemonRoute) throws {
        let daemonCard = try DaemonCard(route: route, reader: card.selection.reader)
        let certificates = try daemonCard.certificates()
        let directory = URL(fileURLWithPath: export)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["auth", "sig"] {
            guard let certificate = certificates.first(where: { $0.name == name }) else {
                throw CLIError("The card has no \(name) certificate.")
            }
            try Data(certificate.der).write(to: directory.appendingPathComponent("\(name).der"))
            try PEM.encode(certificate.der).write(
                to: directory.appendingPathComponent("\(name).pem"), atomically: true, encoding: .utf8)
            print("\(directory.appendingPathComponent(name).path).{pem,der}: \(certificate.label)")
        }
    }
}

extension PINChangeCommand {
    func runViaDaemon(_ route: DaemonRoute) throws {
        let daemonCard = try DaemonCard(route: route, reader: card.selection.reader)
        let counters = try daemonCard.counters()
        guard !counters.pin.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PIN")) }
        try secrets.confirmIfLastTry(counters.pin, what: "PIN")
        let old = try secrets.pin("Current PIN")
        try secrets.check(old, length: CPS3Driver.pinLength, what: "current PIN")
        let new = try secrets.newPIN()
        try daemonCard.changePIN(old: old, new: new)
        print("PIN changed.")
    }
}

extension PINUnblockCommand {
    func runViaDaemon(_ route: DaemonRoute) throws {
        let daemonCard = try DaemonCard(route: route, reader: card.selection.reader)
        let counters = try daemonCard.counters()
        guard !counters.puk.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PUK")) }
        FileHandle.standardError.write(Data("Unblocks left: unknown through cpsd.\n".utf8))
        try secrets.confirmIfLastTry(counters.puk, what: "PUK")
        let puk = try pukFD.map { try SecretInput.fromDescriptor($0) } ?? SecretInput.fromTerminal(prompt: "PUK (8 digits)")
        try secrets.check(puk, length: CPS3Driver.pukLength, what: "PUK")
        let new = try secrets.newPIN()
        try daemonCard.unblockPIN(puk: puk, newPIN: new)
        print("PIN unblocked and set; 3 tries available.")
    }
}

extension SignCommand {
    /// Runs after `plan` accepted the input, so a malformed input never reaches cpsd.
    func runViaDaemon(_ route: DaemonRoute, data: [UInt8]) throws {
        let (role, mechanismType, input) = daemonRequest(data)
        let daemonCard = try DaemonCard(route: route, reader: card.selection.reader)
        let counters = try daemonCard.counters()
        guard !counters.pin.isBlocked else { throw CLIError.explain(IASECCError(.blocked, "PIN")) }
        try secrets.confirmIfLastTry(counters.pin, what: "PIN")
        let pin = try secrets.pin("PIN")
        try secrets.check(pin, length: CPS3Driver.pinLength, what: "PIN")
        let signature = try daemonCard.sign(pin: pin, key: role, mechanism: mechanismType, input: input)
        try Data(signature).write(to: URL(fileURLWithPath: output))
        FileHandle.standardError.write(
            Data("Signed \(data.count) bytes with \(key.rawValue) (\(mechanism.rawValue)) via cpsd.\n".utf8))
    }

    /// The PKCS#11 request: SHA*-RSA-PKCS on the authentication key is refused by cpsd (as by
    /// Cryptolib), so cpsctl hashes on the host and sends the DigestInfo with CKM_RSA_PKCS — the same
    /// signature the direct path makes.
    func daemonRequest(_ data: [UInt8]) -> (role: KeyRole, mechanism: CKM, input: [UInt8]) {
        let keyID: KeyRole = key == .auth ? .authentication : .signature
        switch (key, mechanism) {
        case (_, .rsaPKCS): return (keyID, CKM.rsaPKCS, data)
        case (.sig, .sha1RSAPKCS): return (keyID, CKM.sha1RSAPKCS, data)
        case (.sig, .sha256RSAPKCS): return (keyID, CKM.sha256RSAPKCS, data)
        case (.auth, .sha1RSAPKCS): return (keyID, CKM.rsaPKCS, Self.digestInfo(of: data, hash: .sha1))
        case (.auth, .sha256RSAPKCS):
            return (keyID, CKM.rsaPKCS, Self.digestInfo(of: data, hash: .sha256))
        }
    }
}
