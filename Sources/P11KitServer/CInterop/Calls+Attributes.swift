import CP11Kit
import PKCS11

/// C_SetAttributeValue: convert the template, let the connection decide (cryptolib-pkcs11.md §6.3).
extension Calls {
    static func setAttributeValue(
        _ session: UInt, _ object: UInt, _ template: UnsafeMutablePointer<CK_ATTRIBUTE>?, _ count: UInt
    ) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.setAttributeValue(
                session: session, object: object, template: Convert.template(template, count))
        }
    }
}
