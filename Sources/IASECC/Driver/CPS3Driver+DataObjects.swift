import SmartCardCore

/// The CPS business data objects of a CPS3 (cryptolib-pkcs11.md §6.1 "CPS3 mechanics"): the DODF's objects
/// under 3F00/0001, plus what Cryptolib synthesizes from the CPS2ter application (read with CLA A0):
/// one CPS2TER_ACTIVITY_nn_PS (3F00/4010+nn-1) per CPS_ACTIVITY_nn_PS, and CPS_SIT_FACT (3F00/7F01/4000),
/// all private, application label "CPS".
extension CPS3Driver {
    /// At insertion, with the application current: the DODF, and the values of the objects anyone may read.
    static func readDataObjects(_ session: inout CardSession, directories: [[UInt8]]) throws(IASECCError)
        -> [CardDataObject]
    {
        var entries: [DODFEntry] = []
        for path in directories { entries += try decode(session.readPath(path, "DODF"), PKCS15Parser.dataObjects) }
        var objects = entries.map { $0.object(at: .file(Self.fullPath($0.path))) }
        objects += synthesizedCPS2terObjects(besides: objects)
        for index in objects.indices where !objects[index].isPrivate {
            guard case .file(let path) = objects[index].location else { continue }
            objects[index].value = try readDataFile(&session, path, objects[index].label)
        }
        // A public object whose file is missing is not shown (Cryptolib fails its CKA_VALUE; nothing to show).
        return objects.filter { $0.isPrivate || $0.value != nil }
    }

    /// Right after VERIFY, in the same transaction: the private objects' values. IAS files first, CPS2ter
    /// last: after a CLA-A0 exchange the card may answer the next IAS command 6E00 until the IAS application
    /// is selected again by AID, so the session forgets the current application.
    static func readProtectedDataObjects(_ session: inout CardSession, _ objects: [CardDataObject]) throws(IASECCError)
        -> [CardDataObject]
    {
        var read: [CardDataObject] = []
        for var object in objects where object.isPrivate {
            guard case .file(let path) = object.location else { continue }
            object.value = try readDataFile(&session, path, object.label)
            if object.value != nil { read.append(object) }
        }
        for var object in objects where object.isPrivate {
            guard case .cps2ter(let fids) = object.location else { continue }
            session.currentApplication = nil
            object.value = try readCPS2terFile(&session, fids, object.label)
            if object.value != nil { read.append(object) }
        }
        return read
    }

    /// UPDATE BINARY of the whole file (cryptolib-pkcs11.md §6.3). The PIN must be verified.
    static func writeDataObject(_ session: inout CardSession, _ object: CardDataObject, value: [UInt8])
        throws(IASECCError) -> [UInt8]
    {
        guard object.isModifiable, case .file(let path) = object.location else {
            throw IASECCError(.conditionsNotSatisfied, "\(object.label) is not a modifiable card file")
        }
        let fcp = try session.expectSuccess(
            CommandAPDU(ins: 0xA4, p1: 0x09, p2: 0x04, data: path, expectedLength: 256), "SELECT \(object.label)")
        let size = try decode(fcp, ChipDocFiles.fileSize) ?? object.value?.count ?? value.count
        return try DataObjectFiles.update(&session, cla: 0x00, size: size, value: value, object.label)
    }

    /// A DODF path as a full path from the MF: a bare FID is in the application DF 3F00/0001.
    static func fullPath(_ path: [UInt8]) -> [UInt8] {
        path.starts(with: CPS3.masterFile) ? path : CPS3.masterFile + CPS3.applicationDF + path
    }

    /// SELECT by path from the MF (works whatever the current DF) and READ BINARY to the end; nil for 6A82.
    static func readDataFile(_ session: inout CardSession, _ path: [UInt8], _ name: String) throws(IASECCError)
        -> [UInt8]?
    {
        session.currentApplication = nil
        let response = try session.send(.selectPath(path))
        if response.statusWord == .fileNotFound { return nil }
        if let error = IASECCError.check(response.statusWord, "SELECT \(name)") { throw error }
        return try session.readCurrentFile()
    }

    /// Cryptolib's synthesized objects: never when the DODF already names them (a CPS3 that did would hold them).
    static func synthesizedCPS2terObjects(besides objects: [CardDataObject]) -> [CardDataObject] {
        let labels = Set(objects.map(\.label))
        var synthesized: [CardDataObject] = []
        for object in objects {
            guard let number = activityNumber(object.label) else { continue }
            let label = "CPS2TER_ACTIVITY_" + twoDigits(number) + "_PS"
            guard !labels.contains(label) else { continue }
            let fid = 0x4010 + number - 1
            synthesized.append(
                CardDataObject(
                    label: label, applicationName: "CPS", isPrivate: true, isModifiable: false,
                    location: .cps2ter([[UInt8(fid >> 8), UInt8(fid & 0xFF)]])))
        }
        if !labels.contains("CPS_SIT_FACT") {
            synthesized.append(
                CardDataObject(
                    label: "CPS_SIT_FACT", applicationName: "CPS", isPrivate: true, isModifiable: false,
                    location: .cps2ter([[0x7F, 0x01], [0x40, 0x00]])))
        }
        return synthesized
    }

    /// nn of `CPS_ACTIVITY_nn_PS` (01…16), or nil.
    static func activityNumber(_ label: String) -> Int? {
        guard label.hasPrefix("CPS_ACTIVITY_"), label.hasSuffix("_PS") else { return nil }
        let digits = label.dropFirst("CPS_ACTIVITY_".count).dropLast("_PS".count)
        guard digits.count == 2, let number = Int(digits), (1...16).contains(number) else { return nil }
        return number
    }

    private static func twoDigits(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
}

/// Data-object file handling shared by both generations.
enum DataObjectFiles {
    /// The data objects at insertion, or none when the card's DODF or one of its free files cannot be read
    /// (malformed, refused): the business data are not worth an unusable card, its keys still sign. A broken
    /// transport is no such case: it fails the read as for any other file.
    static func tolerant(_ read: () throws(IASECCError) -> [CardDataObject]) throws(IASECCError) -> [CardDataObject] {
        do {
            return try read()
        } catch where error.code != .transport {
            return []
        }
    }

    /// Writes `value` zero-padded to `size` in chunks of at most 255 bytes; a longer value is refused before
    /// the card sees a byte. Returns the bytes now in the file.
    static func update(_ session: inout CardSession, cla: UInt8, size: Int, value: [UInt8], _ name: String)
        throws(IASECCError) -> [UInt8]
    {
        guard value.count <= size, size <= 0x7FFF else {
            throw IASECCError(.inputTooLong, "\(name) holds \(size) bytes, not \(value.count)")
        }
        let content = value + [UInt8](repeating: 0, count: size - value.count)
        var offset = 0
        while offset < content.count {
            let chunk = Array(content[offset..<min(offset + 255, content.count)])
            _ = try session.expectSuccess(
                CommandAPDU(cla: cla, ins: 0xD6, p1: UInt8(offset >> 8), p2: UInt8(offset & 0xFF), data: chunk),
                "UPDATE BINARY \(name) at \(offset)")
            offset += chunk.count
        }
        return content
    }
}
