import Foundation
import Glibc

/// The files of one virtual stack under its directory, and the vpcd reader.conf entries it needs
/// (reference `virtual-reader-stack.md` §1):
/// - `conf/vpcd-N`: one reader.conf entry per two readers (vpcd serves slots base and base+1);
/// - `drivers/libifdvpcd-N.so`: each entry's own copy of the driver (ifd-vpcd keeps per-slot globals,
///   and pcscd reuses an already loaded LIBPATH);
/// - `run/`: bind-mounted over /run/pcscd inside pcscd's mount namespace, so `run/pcscd.comm` is the socket;
/// - `pcscd.log`: pcscd's output.
struct StackLayout: Sendable {
    static let driverPath = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
    static let slotsPerEntry = 2

    let directory: URL
    let readerCount: Int
    let basePort: UInt16

    var entryCount: Int { (readerCount + Self.slotsPerEntry - 1) / Self.slotsPerEntry }
    var configDirectory: URL { directory.appendingPathComponent("conf", isDirectory: true) }
    var driverDirectory: URL { directory.appendingPathComponent("drivers", isDirectory: true) }
    var runDirectory: URL { directory.appendingPathComponent("run", isDirectory: true) }
    var socketPath: String { runDirectory.appendingPathComponent("pcscd.comm").path }
    var pidFilePath: String { runDirectory.appendingPathComponent("pcscd.pid").path }
    var logPath: String { directory.appendingPathComponent("pcscd.log").path }

    /// Reader `index` is slot `index % 2` of entry `index / 2`; pcscd names it FRIENDLYNAME + " 00 0<slot>".
    func readerName(_ index: Int) -> String {
        "\(Self.friendlyName(entry: index / Self.slotsPerEntry)) 00 0\(index % Self.slotsPerEntry)"
    }

    func port(ofReader index: Int) -> UInt16 { basePort + UInt16(index) }

    static func friendlyName(entry: Int) -> String { "Virtual CPS Reader \(entry)" }

    /// Creates the directories, removes stale pcscd files and writes the configuration and driver copies.
    func prepare() throws(VirtualStackError) {
        let files = FileManager.default
        do {
            for url in [configDirectory, driverDirectory, runDirectory] {
                try files.createDirectory(at: url, withIntermediateDirectories: true)
            }
            try removeStaleRunFiles()
            for old in try files.contentsOfDirectory(atPath: configDirectory.path) {
                try files.removeItem(at: configDirectory.appendingPathComponent(old))
            }
            let original = URL(fileURLWithPath: Self.driverPath).resolvingSymlinksInPath()
            for entry in 0..<entryCount {
                let copy = driverDirectory.appendingPathComponent("libifdvpcd-\(entry).so")
                if !files.fileExists(atPath: copy.path) { try files.copyItem(at: original, to: copy) }
                let text = """
                    FRIENDLYNAME "\(Self.friendlyName(entry: entry))"
                    DEVICENAME /dev/null:\(port(ofReader: entry * Self.slotsPerEntry))
                    LIBPATH \(copy.path)

                    """
                try text.write(
                    to: configDirectory.appendingPathComponent("vpcd-\(entry)"), atomically: true, encoding: .utf8)
            }
        } catch {
            throw VirtualStackError(.filesystem, "cannot prepare \(directory.path): \(error)")
        }
    }

    /// A stale `pcscd.comm` would fake readiness (§1 "Stopping").
    func removeStaleRunFiles() throws {
        for path in [socketPath, pidFilePath] where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// The last `lines` lines of pcscd's log, for error messages.
    func logTail(lines: Int = 15) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// Chooses vpcd ports. vpcd binds 0.0.0.0, so a port is free when we can bind it on 0.0.0.0 ourselves.
enum PortPicker {
    /// A random even base port in 20000..<60000 with `count` consecutive free ports.
    static func pickBase(count: Int, attempts: Int = 64) throws(VirtualStackError) -> UInt16 {
        for _ in 0..<attempts {
            let base = UInt16.random(in: 10_000..<30_000) * 2
            if (0..<count).allSatisfy({ PortProbe.isFree(base + UInt16($0)) }) { return base }
        }
        throw VirtualStackError(.noFreePorts, "no \(count) consecutive free TCP ports after \(attempts) tries")
    }

}
