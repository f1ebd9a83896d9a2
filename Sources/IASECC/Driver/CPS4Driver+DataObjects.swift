import SmartCardCore

/// The CPS business data objects of a CPS4: every one of them, CPS2TER_* and CPS_SIT_FACT included, is a
/// file of the PKCS#15 application named by the ChipDoc DODF (cryptolib-pkcs11.md §6.1), read and written on
/// channel 1 by ISO path after the MF.
extension CPS4Driver {
    /// At insertion: the DODF, and the values of the objects anyone may read. `path` resolves a PKCS#15 path
    /// against the application's DF.
    static func readDataObjects(
        _ session: inout CardSession, directories: [[UInt8]], path: ([UInt8]) -> [UInt8]
    ) throws(IASECCError) -> [CardDataObject] {
        var entries: [DODFEntry] = []
        for file in directories {
            entries += try CPS3Driver.decode(readFile(&session, path(file), "DODF"), PKCS15Parser.dataObjects)
        }
        var objects = entries.map { $0.object(at: .file(path($0.path))) }
        for index in objects.indices where !objects[index].isPrivate {
            objects[index].value = try readDataFile(&session, objects[index])
        }
        return objects.filter { $0.isPrivate || $0.value != nil }
    }

    /// Right after VERIFY, in the same transaction: the private objects' values (files the card lacks are
    /// left out).
    static func readProtectedDataObjects(_ session: inout CardSession, _ objects: [CardDataObject]) throws(IASECCError)
        -> [CardDataObject]
    {
        var read: [CardDataObject] = []
        for var object in objects where object.isPrivate {
            object.value = try readDataFile(&session, object)
            if object.value != nil { read.append(object) }
        }
        return read
    }

    /// UPDATE BINARY of the whole file on channel 1 (cryptolib-pkcs11.md §6.3). The PIN must be verified.
    /// A reselect forced by a lost context also lost the verification: the 6982 that follows is reported as
    /// the lost context it is, not as a missing login.
    static func writeDataObject(_ session: inout CardSession, _ object: CardDataObject, value: [UInt8])
        throws(IASECCError) -> [UInt8]
    {
        guard object.isModifiable, case .file(let path) = object.location else {
            throw IASECCError(.conditionsNotSatisfied, "\(object.label) is not a modifiable card file")
        }
        var recovered = false
        let fci = try withChipDocRecovery(&session, recovered: &recovered) { (session) throws(IASECCError) in
            try session.expectSuccess(.selectPathWithFCI(path, cla: cla), "SELECT \(object.label)")
        }
        let size = try CPS3Driver.decode(fci, ChipDocFiles.fileSize) ?? object.value?.count ?? value.count
        do {
            return try DataObjectFiles.update(&session, cla: cla, size: size, value: value, object.label)
        } catch where recovered && error.code == .pinRequired {
            throw IASECCError(
                .contextLost, "the card lost the ChipDoc context and the verification with it: try again",
                statusWord: error.statusWord)
        }
    }

    /// The object's file whole, or nil when the card has no such file (6A82).
    private static func readDataFile(_ session: inout CardSession, _ object: CardDataObject) throws(IASECCError)
        -> [UInt8]?
    {
        guard case .file(let path) = object.location else { return nil }
        do {
            return try readFile(&session, path, object.label)
        } catch where error.code == .fileNotFound {
            return nil
        }
    }
}
