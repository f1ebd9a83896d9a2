import CardIdentity
import Foundation
import IASECC
import P11KitClient

extension CardReport {
    /// The report from what cpsd serves: token label and serial from C_GetTokenInfo, the certificates'
    /// CKA_VALUE, counters from the token flags; the unblock counter is unknown through PKCS#11.
    init(
        daemon card: DaemonCard, token: PKCS11TokenInfo, certificates stored: [DaemonCertificate], trustStore: TrustStore,
        now: Date = Date()
    ) async throws {
        reader = card.readerName
        tokenLabel = token.label
        serialNumber = token.serialNumber
        let usages = ["auth": "authentication", "sig": "signature"]
        (certificates, holder) = try await Self.describe(
            stored.compactMap { certificate in usages[certificate.name].map { ($0, certificate.label, certificate.der) } },
            trustStore: trustStore, now: now)
        let counters = DaemonCard.counters(tokenFlags: token.flags)
        pin = Counters(triesLeft: counters.pin.triesLeft, maxTries: counters.pin.maxTries)
        puk = Counters(triesLeft: counters.puk.triesLeft, maxTries: counters.puk.maxTries)
        unblocksLeft = nil
        access = "via cpsd"
        daemonSocket = card.route.socketPath
    }

    private enum JSONKey: String, CodingKey {
        case reader, tokenLabel, serialNumber, holder, certificates, pin, puk, unblocksLeft, access, daemonSocket
    }

    /// The JSON scripts read: as before, plus `access` and `daemonSocket`; an unknown `unblocksLeft` is
    /// an explicit null rather than a missing key.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(reader, forKey: .reader)
        try container.encode(tokenLabel, forKey: .tokenLabel)
        try container.encode(serialNumber, forKey: .serialNumber)
        try container.encode(holder, forKey: .holder)
        try container.encode(certificates, forKey: .certificates)
        try container.encode(pin, forKey: .pin)
        try container.encode(puk, forKey: .puk)
        try container.encode(unblocksLeft, forKey: .unblocksLeft)
        try container.encode(access, forKey: .access)
        try container.encode(daemonSocket, forKey: .daemonSocket)
    }
}
