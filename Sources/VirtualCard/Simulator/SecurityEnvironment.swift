import SmartCardCore

/// The current security environment (reference `cps3-card.md` §5 MSE rows, §16 point 7): the hash
/// template, the hash computed by PSO HASH, the signature template and the authentication template.
struct SecurityEnvironment {
    enum HashAlgorithm: UInt8 {
        case sha1 = 0x10
        case sha256 = 0x40

        var digestLength: Int { self == .sha1 ? 20 : 32 }
    }

    /// Algorithm of MSE SET HT.
    var hashAlgorithm: HashAlgorithm?
    /// The digest PSO HASH produced; consumed by one PSO CDS.
    var digest: (algorithm: HashAlgorithm, value: [UInt8])?
    /// Algorithm reference of MSE SET DST (0x12 or 0x42) with key 0x81.
    var signatureAlgorithm: UInt8?
    /// MSE SET AT with algorithm 0x02 and key 0x82 was given.
    var authenticationSet = false
    /// MSE SET CT with algorithm 0x1A and key 0x82 was given (PSO DECIPHER, cps4-card.md §11.3).
    var decipherSet = false

    /// The hash algorithm a DST algorithm reference signs with.
    static func hashAlgorithm(forSignature reference: UInt8) -> HashAlgorithm? {
        switch reference {
        case CPS3.algorithmSHA1WithRSA: .sha1
        case CPS3.algorithmSHA256WithRSA: .sha256
        default: nil
        }
    }
}

extension CardMachine {
    private enum Template: UInt8 {
        case hash = 0xAA
        case digitalSignature = 0xB6
        case authentication = 0xA4
        case confidentiality = 0xB8
    }

    /// MSE SET `00 22 41 tpl Lc CRT`: the CRT holds `80 01 alg` and (for DST/AT) `84 01 key`, in
    /// either order (§5 "CRT order"). Unknown tags or algorithms → 6A80; an unknown key → 6A88.
    mutating func manageSecurityEnvironment(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x41, let template = Template(rawValue: command.p2) else {
            return .status(.incorrectP1P2)
        }
        guard let elements = TLV.parseList(command.data) else { return .status(.incorrectData) }
        var algorithm: UInt8?
        var key: UInt8?
        for element in elements {
            guard element.value.count == 1 else { return .status(.incorrectData) }
            switch element.tag {
            case 0x80: algorithm = element.value[0]
            case 0x84: key = element.value[0]
            default: return .status(.incorrectData)
            }
        }
        guard let algorithm else { return .status(.incorrectData) }
        return setTemplate(template, algorithm: algorithm, key: key)
    }

    private mutating func setTemplate(_ template: Template, algorithm: UInt8, key: UInt8?) -> Reply {
        switch template {
        case .hash:
            guard key == nil, let hash = SecurityEnvironment.HashAlgorithm(rawValue: algorithm) else {
                return .status(.incorrectData)
            }
            volatile.environment.hashAlgorithm = hash
            volatile.environment.digest = nil
        case .digitalSignature:
            guard SecurityEnvironment.hashAlgorithm(forSignature: algorithm) != nil else {
                return .status(.incorrectData)
            }
            guard key == CPS3.signatureKeyReference else { return .status(.referencedDataNotFound) }
            volatile.environment.signatureAlgorithm = algorithm
        case .authentication:
            guard algorithm == CPS3.algorithmRSAPKCS1 else { return .status(.incorrectData) }
            guard key == CPS3.authenticationKeyReference else { return .status(.referencedDataNotFound) }
            volatile.environment.authenticationSet = true
        case .confidentiality:
            guard algorithm == CPS3.algorithmRSADecipher else { return .status(.incorrectData) }
            guard key == CPS3.authenticationKeyReference else { return .status(.referencedDataNotFound) }
            volatile.environment.decipherSet = true
        }
        return .ok
    }
}
