import Foundation

/// This machine's files, through FileManager.
package struct LocalFileSystem: DiagFileSystem {
    package init() {}

    package func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    package func isExecutableFile(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    package func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map(Array.init) }

    package func directoryEntries(_ path: String) -> [String]? { try? FileManager.default.contentsOfDirectory(atPath: path) }

    package func symbolicLinkDestination(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    package func resolvingSymlinks(_ path: String) -> String { (path as NSString).resolvingSymlinksInPath }

    package func ownerID(_ path: String) -> UInt32? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.ownerAccountID].flatMap { ($0 as? NSNumber)?.uint32Value }
    }
}
