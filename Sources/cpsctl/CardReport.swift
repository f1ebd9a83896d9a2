import CardIdentity
import Foundation
import IASECC
import SmartCardCore
import SwiftASN1
import X509

/// What `cpsctl card info` reports (its JSON is stable: installers' scripts read it).
struct CardReport: Encodable {
    struct Holder: Encodable {
        let idNat: String
        let idKind: String
        let givenName: String?
        let surname: String?
        let profession: String?
        let cardType: String?
        let organization: String?
        let organizationalUnit: String?
    }

    struct CertificateInfo: Encodable {
        let usage: String
        let label: String
        let subject: String
        let issuer: String
        let serialNumber: String
        let notBefore: Date
        let notAfter: Date
        let daysUntilExpiry: Int
        /// "trusted (production)", "trusted (test)" or "untrusted: why".
        let chain: String
    }

    struct Counters: Encodable {
        let triesLeft: Int
        let maxTries: Int
    }

    let reader: String
    let tokenLabel: String?
    let serialNumber: String
    let holder: Holder?
    let certificates: [CertificateInfo]
    let pin: Counters
    let puk: Counters
    /// Unknown (null) through cpsd: PKCS#11 does not carry the unblock counter.
    let unblocksLeft: Int?
    /// "direct" (PC/SC) or "via cpsd".
    let access: String
    let daemonSocket: String?

    init(reader: String, contents: CardContents, trustStore: TrustStore, now: Date = Date()) async throws {
        self.reader = reader
        tokenLabel = contents.tokenInfo.label
        serialNumber = contents.serialNumber
        let stored = [("authentication", contents.authenticationKey), ("signature", contents.signatureKey)].compactMap {
            usage, key in key.flatMap { contents.certificate(for: $0) }.map { (usage, $0.object.label, $0.der) }
        }
        (certificates, holder) = try await Self.describe(stored, trustStore: trustStore, now: now)
        let status = contents.pinStatus
        pin = Counters(triesLeft: status.pin.triesLeft, maxTries: status.pin.maxTries)
        puk = Counters(triesLeft: status.puk.triesLeft, maxTries: status.puk.maxTries)
        unblocksLeft = status.unblocksLeft
        access = "direct"
        daemonSocket = nil
    }

    /// The certificates (usage, label, DER) in words, and the holder from the authentication one.
    static func describe(
        _ stored: [(usage: String, label: String, der: [UInt8])], trustStore: TrustStore, now: Date
    ) async throws -> ([CertificateInfo], Holder?) {
        var certificates: [CertificateInfo] = []
        var holder: Holder?
        for (usage, label, der) in stored {
            let certificate = try Certificate(derEncoded: der)
            let identity = try HolderIdentity(certificate: certificate)
            if usage == "authentication" { holder = Holder(identity) }
            let chain: String
            switch await trustStore.verify(certificate, at: now) {
            case .trusted(let kind): chain = "trusted (\(kind.rawValue))"
            case .untrusted(let reason): chain = "untrusted: \(reason)"
            }
            certificates.append(
                CertificateInfo(
                    usage: usage, label: label, subject: identity.certificate.subject,
                    issuer: identity.certificate.issuer, serialNumber: identity.certificate.serialNumber,
                    notBefore: identity.certificate.notBefore, notAfter: identity.certificate.notAfter,
                    daysUntilExpiry: identity.certificate.daysUntilExpiry(from: now), chain: chain))
        }
        return (certificates, holder)
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        var lines: [String] = []
        if let holder {
            let name = [holder.givenName, holder.surname].compactMap { $0 }.joined(separator: " ")
            lines.append("Holder:        \(name) (\(holder.profession ?? "profession unknown"))")
            lines.append("Identifier:    \(holder.idNat) (\(holder.idKind))")
            lines.append("Card type:     \(holder.cardType ?? "unknown")")
        }
        lines.append("Card:          \(tokenLabel ?? "CPx card"), serial \(serialNumber), reader \"\(reader)\"")
        for certificate in certificates {
            let expiry = certificate.daysUntilExpiry < 0
                ? "EXPIRED \(-certificate.daysUntilExpiry) days ago"
                : "expires in \(certificate.daysUntilExpiry) days"
            lines.append("\(certificate.label):")
            lines.append("  subject      \(certificate.subject)")
            lines.append("  issuer       \(certificate.issuer)")
            lines.append("  valid until  \(ISO8601DateFormatter().string(from: certificate.notAfter)) (\(expiry))")
            lines.append("  chain        \(certificate.chain)")
        }
        lines.append("PIN:           \(pin.triesLeft) of \(pin.maxTries) tries left")
        lines.append("PUK:           \(puk.triesLeft) of \(puk.maxTries) tries left")
        lines.append("Unblocks left: \(unblocksLeft.map(String.init) ?? "unknown")")
        lines.append("Access:        \(access)\(daemonSocket.map { " (\($0))" } ?? "")")
        return lines.joined(separator: "\n")
    }
}

extension CardReport.Holder {
    init(_ identity: HolderIdentity) {
        self.init(
            idNat: identity.idNat, idKind: identity.idKind.rawValue, givenName: identity.givenName,
            surname: identity.surname, profession: identity.profession, cardType: identity.cardType?.rawValue,
            organization: identity.organization, organizationalUnit: identity.organizationalUnit)
    }
}
