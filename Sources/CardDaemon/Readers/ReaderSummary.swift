package import PKCS11

/// What a reader is doing, as the reader actor last published it. It says why a slot shows no token.
package enum ReaderCondition: Sendable, Hashable, CustomStringConvertible {
    case empty
    case reading
    case present
    /// A card is in the reader but gives no token (not a CPS3, unreadable, removed while being read).
    case failed(reason: String)
    case gone

    package var description: String {
        switch self {
        case .empty: "no card"
        case .reading: "reading the card"
        case .present: "card ready"
        case .failed(let reason): "no token: \(reason)"
        case .gone: "reader gone"
        }
    }
}

/// One reader as the daemon shows it: its slot, its condition, its token.
package struct ReaderSummary: Sendable, Hashable {
    package var slot: SlotID
    package var readerName: String
    package var condition: ReaderCondition
    package var token: TokenState?
}
