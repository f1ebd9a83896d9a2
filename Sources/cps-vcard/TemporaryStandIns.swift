// TEMPORARY: stand-ins for VirtualCard types being written in another branch (CardStore, CPS3Card,
// CardFactory, CardProvisioningOptions). Delete this whole file when that branch is merged.
import Foundation
import SmartCardCore
import VirtualCard

/// Stand-in: loads and saves `state.json` in a directory.
struct CardStore: Sendable {
    let directory: URL
    init(directory: URL) { self.directory = directory }
    private var file: URL { directory.appendingPathComponent("state.json") }
    func load() throws -> CardState { try JSONDecoder().decode(CardState.self, from: Data(contentsOf: file)) }
    func save(_ state: CardState) throws { try JSONEncoder().encode(state).write(to: file, options: .atomic) }
}

/// Stand-in: answers the CPS3 ATR, 9000 to SELECT and 6D00 to anything else.
final class CPS3Card: CardSimulator, @unchecked Sendable {
    let atr = CardKind.cps3ContactATR
    init(state: CardState, onStateChange: @escaping @Sendable (CardState) -> Void) {}
    func powerOn() {}
    func powerOff() {}
    func reset() {}
    func process(_ command: [UInt8]) -> [UInt8] { command.count >= 4 && command[1] == 0xA4 ? [0x90, 0x00] : [0x6D, 0x00] }
}

/// Stand-in provisioning options.
struct CardProvisioningOptions {
    var holder: HolderProfile
    var serial: String?
    var pin: [UInt8]
    var puk: [UInt8]
    var notBefore: Date?
    var notAfter: Date?
    var pinTriesLeft: Int?
    var pukTriesLeft: Int?
    var unblocksMax: Int?
    var unblocksLeft: Int?
}

/// Stand-in factory: no keys or certificates.
enum CardFactory {
    static func makeCard(_ options: CardProvisioningOptions) throws -> CardState {
        CardState(
            serial: options.serial ?? String(format: "%010d", Int.random(in: 0..<1_000_000_000)),
            holder: options.holder,
            pin: Credential(value: options.pin, triesLeft: options.pinTriesLeft),
            puk: Credential(value: options.puk, triesLeft: options.pukTriesLeft),
            unblocksLeft: options.unblocksLeft ?? 10, unblocksMax: options.unblocksMax ?? 10,
            signatureKeyDER: [], authenticationKeyDER: [], signatureCertificateDER: [],
            authenticationCertificateDER: [], caChainDER: [])
    }
}
