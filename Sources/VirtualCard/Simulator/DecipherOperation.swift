import SmartCardCore

/// PSO DECIPHER with the authentication key, as Cryptolib drives a CPS3 (cps4-card.md §11.3):
/// `00 22 41 B8 06 80 01 1A 84 01 82` (MSE SET CT), then `10 2A 80 86 FF 81 <254 B>` and
/// `00 2A 80 86 02 <2 B>`: a padding-indicator byte 81 and the 256-byte cryptogram, split by command
/// chaining. The card removes the PKCS#1 v1.5 padding and returns the plaintext (61xx on T=0).
extension CardMachine {
    mutating func decipherChain(_ command: CommandAPDU) -> Reply {
        guard (command.p1, command.p2) == (0x80, 0x86) else {
            volatile.chainedData = nil
            return .status(.incorrectP1P2)
        }
        let data = (volatile.chainedData ?? []) + command.data
        // A chain longer than indicator + one cryptogram is refused before it grows any further.
        guard data.count <= 1 + CPS3.rsaModulusBits / 8 else {
            volatile.chainedData = nil
            return .status(.wrongLength)
        }
        if command.cla == CPS3.classChaining {
            volatile.chainedData = data
            return .ok
        }
        volatile.chainedData = nil
        return decipher(data)
    }

    /// The last command of the chain: PIN (6982) and MSE SET CT (6985) first, then the data.
    private mutating func decipher(_ data: [UInt8]) -> Reply {
        guard volatile.pinVerified else { return .status(.securityStatusNotSatisfied) }
        guard volatile.environment.decipherSet else { return .status(.conditionsOfUseNotSatisfied) }
        guard data.count == 1 + CPS3.rsaModulusBits / 8 else { return .status(.wrongLength) }
        guard data.first == CPS3.decipherPaddingIndicator else { return .status(.incorrectData) }
        guard let plaintext = keys.decipher(Array(data.dropFirst()), with: .authentication) else {
            return .status(.incorrectData)
        }
        return Reply(data: plaintext)
    }
}
