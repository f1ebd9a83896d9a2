/// The CPx card types (cps3-card.md §1, nomenclature TRE_G02): who the card was issued to.
package enum CPxCardType: String, Codable, Sendable, Hashable, CaseIterable {
    /// Carte de Professionnel de Santé.
    case cps = "CPS"
    /// Carte de Professionnel en Formation.
    case cpf = "CPF"
    /// Carte de Personnel d'Établissement.
    case cpe = "CPE"
    /// Carte de Directeur d'Établissement.
    case cde = "CDE"
    /// Carte de Personnel Autorisé.
    case cpa = "CPA"
    /// Carte de Directeur d'Autorisation.
    case cda = "CDA"
}

extension CPxCardType {
    /// Where cpsd's test PKI records the card type in a card certificate: a non-critical extension whose
    /// value is the type's name as a UTF8String, under the TRE_G02 "TypeProduit" nomenclature OID.
    /// Real IGC-Santé certificates are not known to carry the card type (cards keep it in their
    /// business data, §10), so on a real card the type may be unknown from the certificate alone.
    package static let certificateExtensionOID: [UInt] = [1, 2, 250, 1, 71, 1, 2, 2]
}
