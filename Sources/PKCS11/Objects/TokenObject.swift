package import PKCS11Constants
package import SmartCardCore

/// One PKCS#11 object of a token: its handle, attributes as the C caller reads them, and which
/// attribute types exist but are sensitive (CKR_ATTRIBUTE_SENSITIVE).
package struct TokenObject: Sendable, Hashable {
    package var handle: UInt
    package var isPrivate: Bool
    /// For private keys: what the key is on the card.
    package var keyRole: KeyRole?
    package var attributes: [CKA: [UInt8]]
    package var sensitive: Set<CKA>

    package var objectClass: UInt? { attributes[.class].flatMap(AttributeValue.readULong) }
    package var label: String { attributes[.label].map { String(decoding: $0, as: UTF8.self) } ?? "" }
    package func flag(_ type: CKA) -> Bool { attributes[type] == AttributeValue.bool(true) }

    /// True when every attribute of `template` is present with exactly that value (C_FindObjectsInit).
    package func matches(_ template: [Attribute]) -> Bool {
        template.allSatisfy { attributes[$0.type] == $0.value }
    }

    /// C_GetAttributeValue for one attribute.
    package func read(_ request: AttributeRequest) -> AttributeResult {
        if sensitive.contains(request.type) { return .sensitive }
        guard let value = attributes[request.type] else { return .invalidType }
        guard let capacity = request.capacity else { return .length(value.count) }
        return capacity >= value.count ? .value(value) : .bufferTooSmall
    }
}

/// Builds a token's six objects (Cryptolib's set, cps3-card.md §12.4): per key role a certificate, a
/// public key from the certificate, and the private key. Handles are stable for (slot, generation) and
/// differ between generations, so a handle of a pulled card never names an object of the next one.
package enum TokenObjects {
    package static func build(slot: SlotID, token: TokenState) -> [TokenObject] {
        var objects: [TokenObject] = []
        func handle() -> UInt {
            (UInt(truncatingIfNeeded: token.generation & 0x7FFF) << 16) | ((slot & 0xFF) << 8) | UInt(objects.count + 1)
        }
        let certificates = token.certificates.sorted { order($0.role) < order($1.role) }
        let keys = token.privateKeys.sorted { order($0.role) < order($1.role) }
        var parsed: [KeyRole: CertificateFields] = [:]
        for certificate in certificates {
            parsed[certificate.role] = try? CertificateFields(der: certificate.der)
            objects.append(certificateObject(certificate, parsed[certificate.role], handle: handle()))
        }
        // Cryptolib builds the public keys from the certificates (no PuKDF on CPS3: cryptolib-pkcs11.md §5.1).
        for certificate in certificates where keys.contains(where: { $0.role == certificate.role }) {
            guard let fields = parsed[certificate.role] else { continue }
            objects.append(publicKeyObject(certificate, fields, handle: handle()))
        }
        for key in keys {
            objects.append(privateKeyObject(key, parsed[key.role], handle: handle()))
        }
        objects += DataObjects.build(slot: slot, token: token)
        return objects
    }

    private static func order(_ role: KeyRole) -> Int { role == .authentication ? 0 : 1 }

    private static func common(_ objectClass: UInt, label: String, isPrivate: Bool) -> [CKA: [UInt8]] {
        [
            .class: AttributeValue.ulong(objectClass), .token: AttributeValue.bool(true),
            .private: AttributeValue.bool(isPrivate), .modifiable: AttributeValue.bool(false),
            .copyable: AttributeValue.bool(false), .destroyable: AttributeValue.bool(false),
            .label: AttributeValue.utf8(label),
        ]
    }

    private static func certificateObject(
        _ certificate: TokenCertificate, _ fields: CertificateFields?, handle: UInt
    ) -> TokenObject {
        var attributes = common(CKO.certificate, label: certificate.label, isPrivate: false)
        attributes[.certificateType] = AttributeValue.ulong(CKC.x509)
        attributes[.trusted] = AttributeValue.bool(false)
        attributes[.certificateCategory] = AttributeValue.ulong(CKC.categoryTokenUser)
        attributes[.id] = certificate.id
        attributes[.value] = certificate.der
        attributes[.url] = []
        attributes[.hashOfSubjectPublicKey] = []
        attributes[.hashOfIssuerPublicKey] = []
        attributes[.javaMIDPSecurityDomain] = AttributeValue.ulong(0)
        attributes[.startDate] = []
        attributes[.endDate] = []
        attributes[.subject] = fields?.subject ?? []
        attributes[.issuer] = fields?.issuer ?? []
        attributes[.serialNumber] = fields?.serialNumber ?? []
        return TokenObject(handle: handle, isPrivate: false, attributes: attributes, sensitive: [])
    }

    private static func keyCommon(_ objectClass: UInt, label: String, id: [UInt8], isPrivate: Bool) -> [CKA: [UInt8]] {
        var attributes = common(objectClass, label: label, isPrivate: isPrivate)
        attributes[.keyType] = AttributeValue.ulong(CKK.rsa)
        attributes[.id] = id
        attributes[.startDate] = []
        attributes[.endDate] = []
        attributes[.derive] = AttributeValue.bool(false)
        attributes[.local] = AttributeValue.bool(false)
        attributes[.keyGenMechanism] = AttributeValue.ulong(unavailableInformation)
        return attributes
    }

    /// Cryptolib's public key (cryptolib-pkcs11.md §5.2): label "Cle publique - " + the certificate's label
    /// with the C string's NUL counted in ulValueLen, the key flags of a card key (sic), ENCRYPT / VERIFY /
    /// VERIFY_RECOVER true and the other usages false, CKA_VALUE the PKCS#1 RSAPublicKey; any other attribute
    /// is CKR_ATTRIBUTE_TYPE_INVALID.
    private static func publicKeyObject(_ certificate: TokenCertificate, _ fields: CertificateFields, handle: UInt)
        -> TokenObject
    {
        var attributes: [CKA: [UInt8]] = [
            .class: AttributeValue.ulong(CKO.publicKey), .keyType: AttributeValue.ulong(CKK.rsa),
            .label: AttributeValue.utf8("Cle publique - " + certificate.label) + [0], .id: certificate.id,
            .modulus: fields.modulus, .publicExponent: fields.publicExponent,
            .modulusBits: AttributeValue.ulong(UInt(RSAPublicKeyDER.bits(fields.modulus))),
            .value: RSAPublicKeyDER.encode(modulus: fields.modulus, exponent: fields.publicExponent),
        ]
        let flags: [CKA: Bool] = [
            .token: true, .local: true, .sensitive: true, .alwaysSensitive: true, .neverExtractable: true,
            .private: false, .modifiable: false, .extractable: false,
            .encrypt: true, .verify: true, .verifyRecover: true, .wrap: false, .derive: false,
            // The private-key usages too, false, as Cryptolib answers them (DifferentialCryptolibTests).
            .decrypt: false, .unwrap: false, .sign: false, .signRecover: false,
        ]
        for (type, value) in flags { attributes[type] = AttributeValue.bool(value) }
        attributes[.keyGenMechanism] = AttributeValue.ulong(unavailableInformation)
        return TokenObject(handle: handle, isPrivate: false, attributes: attributes, sensitive: [])
    }

    private static func privateKeyObject(
        _ key: TokenPrivateKey, _ fields: CertificateFields?, handle: UInt
    ) -> TokenObject {
        var attributes = keyCommon(CKO.privateKey, label: key.label, id: key.id, isPrivate: true)
        let flags: [CKA: Bool] = [
            // Usage follows what the card generation lets this key do (the card driver's capabilities).
            .sensitive: true, .decrypt: !key.capabilities.decryptions.isEmpty,
            .sign: !key.capabilities.signatures.isEmpty, .signRecover: false,
            .unwrap: false, .extractable: false, .alwaysSensitive: true, .neverExtractable: true,
            .wrapWithTrusted: false, .alwaysAuthenticate: false, .local: true,
            // Cryptolib answers the public-key usages of a private key too, all false (§5.2).
            .encrypt: false, .wrap: false, .verify: false, .verifyRecover: false,
        ]
        for (type, value) in flags { attributes[type] = AttributeValue.bool(value) }
        attributes[.subject] = fields?.subject ?? []
        attributes[.modulusBits] = AttributeValue.ulong(UInt(key.modulusBits))
        // No CKA_ALLOWED_MECHANISMS: Cryptolib has none, and p11-kit 0.24's RPC cannot carry its size query
        // (the client gets CKR_DEVICE_ERROR: seen by DifferentialCryptolibTests). The mechanism list per
        // token and CKR_KEY_TYPE_INCONSISTENT at C_SignInit say what each key does.
        if let fields {
            attributes[.modulus] = fields.modulus
            attributes[.publicExponent] = fields.publicExponent
        }
        return TokenObject(
            handle: handle, isPrivate: true, keyRole: key.role, attributes: attributes,
            sensitive: [.privateExponent, .prime1, .prime2, .exponent1, .exponent2, .coefficient])
    }
}

/// PKCS#1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1), in DER.
enum RSAPublicKeyDER {
    static func encode(modulus: [UInt8], exponent: [UInt8]) -> [UInt8] {
        tlv(0x30, integer(modulus) + integer(exponent))
    }

    static func bits(_ modulus: [UInt8]) -> Int {
        let bytes = modulus.drop { $0 == 0 }
        return bytes.count * 8 - (bytes.first?.leadingZeroBitCount ?? 0)
    }

    /// A positive INTEGER: minimal, with a 00 when the high bit is set.
    private static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop { $0 == 0 })
        if bytes.isEmpty || bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return tlv(0x02, bytes)
    }

    private static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let count = content.count
        guard count >= 0x80 else { return [tag, UInt8(count)] + content }
        let length = (0..<8).reversed().map { UInt8(truncatingIfNeeded: count >> (8 * $0)) }.drop { $0 == 0 }
        return [tag, 0x80 | UInt8(length.count)] + length + content
    }
}
