import CP11Kit
import PKCS11
import PKCS11Constants

extension Calls {
    static func initPIN(_ session: UInt, _ pin: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.initPIN(session: session, pin: Convert.secret(pin, length))
        }
    }

    static func setPIN(
        _ session: UInt, _ old: UnsafeMutablePointer<UInt8>?, _ oldLength: UInt, _ new: UnsafeMutablePointer<UInt8>?,
        _ newLength: UInt
    ) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.setPIN(
                session: session, old: Convert.secret(old, oldLength), new: Convert.secret(new, newLength))
        }
    }

    static func openSession(
        _ slot: UInt, _ flags: UInt, _ handle: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let handle else { throw PKCS11Error(.argumentsBad) }
            handle.pointee = try connection.openSession(slot: slot, flags: flags)
        }
    }

    static func closeSession(_ session: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in try connection.closeSession(session) }
    }

    static func closeAllSessions(_ slot: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in try connection.closeAllSessions(slot: slot) }
    }

    static func sessionInfo(_ session: UInt, _ pointer: UnsafeMutablePointer<CK_SESSION_INFO>?) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let pointer else { throw PKCS11Error(.argumentsBad) }
            let info = try connection.sessionInfo(session)
            pointer.pointee = CK_SESSION_INFO(
                slotID: info.slotID, state: info.state, flags: info.flags, ulDeviceError: info.deviceError)
        }
    }

    static func login(_ session: UInt, _ userType: UInt, _ pin: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.login(session: session, userType: CKU(rawValue: userType), pin: Convert.secret(pin, length))
        }
    }

    static func logout(_ session: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in try connection.logout(session: session) }
    }

    static func attributeValue(
        _ session: UInt, _ object: UInt, _ template: UnsafeMutablePointer<CK_ATTRIBUTE>?, _ count: UInt
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            guard count == 0 || template != nil else { throw PKCS11Error(.argumentsBad) }
            let attributes = UnsafeMutableBufferPointer(start: template, count: Int(clamping: count))
            let requests = attributes.map { attribute in
                AttributeRequest(
                    type: CKA(rawValue: attribute.type),
                    capacity: attribute.pValue == nil ? nil : Int(clamping: attribute.ulValueLen))
            }
            let results = try connection.attributeValues(session: session, object: object, requests: requests)
            for (index, result) in results.enumerated() {
                switch result {
                case .value(let bytes):
                    let target = attributes[index].pValue.assumingMemoryBound(to: UInt8.self)
                    guard Convert.copy(bytes, into: target, capacity: attributes[index].ulValueLen) else {
                        attributes[index].ulValueLen = unavailableInformation
                        throw PKCS11Error(.bufferTooSmall)
                    }
                    attributes[index].ulValueLen = UInt(bytes.count)
                case .length(let length): attributes[index].ulValueLen = UInt(length)
                case .sensitive, .invalidType, .bufferTooSmall: attributes[index].ulValueLen = unavailableInformation
                }
            }
            return results.returnValue
        }
    }

    static func findObjectsInit(_ session: UInt, _ template: UnsafeMutablePointer<CK_ATTRIBUTE>?, _ count: UInt) -> UInt
    {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.findObjectsInit(session: session, template: Convert.template(template, count))
        }
    }

    static func findObjects(
        _ session: UInt, _ objects: UnsafeMutablePointer<UInt>?, _ max: UInt, _ count: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let objects, let count else { throw PKCS11Error(.argumentsBad) }
            let found = try connection.findObjects(session: session, maxCount: Int(clamping: max))
            guard Convert.copy(found, into: objects, capacity: max) else { throw PKCS11Error(.generalError) }
            count.pointee = UInt(found.count)
        }
    }

    static func findObjectsFinal(_ session: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in try connection.findObjectsFinal(session: session) }
    }
}
