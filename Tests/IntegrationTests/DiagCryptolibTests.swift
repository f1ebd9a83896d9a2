import CardTestSupport
import Foundation
import Testing

/// `middleware.cryptolib`: the installer learns that the vendor's middleware shares the readers, and that the
/// module at Cryptolib's path is cpsd's own when the package put it there (through the alternatives link).
@Suite("cpsctl diag: Cryptolib beside cpsd")
struct DiagCryptolibTests {
    @Test("absent: ok; the vendor's file: warned with what to know; cpsd's module through a link: ok")
    func cryptolibCheck() throws {
        let directory = TestCards.temporaryDirectory("cpsd-diag-cryptolib")
        defer { try? FileManager.default.removeItem(at: directory) }
        let vendor = directory.appendingPathComponent("opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so")
        let ours = directory.appendingPathComponent("usr/lib/cpsd/libcps3_pkcs11_lux.so")
        let link = directory.appendingPathComponent("alternative/libcps3_pkcs11_lux.so")
        for file in [vendor, ours] {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([0x7F, 0x45, 0x4C, 0x46]).write(to: file)
        }
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: ours)
        let check = { (path: URL) throws -> (String?, String, String) in
            var environment = DiagRun.home().1
            environment["CPSD_CRYPTOLIB_PATH"] = path.path
            let run = try DiagRun.run(environment: environment, [])
            return (run.status("middleware.cryptolib"), run.finding("middleware.cryptolib"), run.remedy("middleware.cryptolib"))
        }
        let absent = try check(directory.appendingPathComponent("none.so"))
        #expect(absent.0 == "ok" && absent.1.contains("not installed"), "\(absent)")
        let vendorRun = try check(vendor)
        #expect(vendorRun.0 == "warn" && vendorRun.1.contains("two middlewares"), "\(vendorRun)")
        #expect(vendorRun.2.contains("fail once"), "\(vendorRun)")
        let oursRun = try check(link)
        #expect(oursRun.0 == "ok" && oursRun.1.contains("cpsd's Cryptolib-compatible module"), "\(oursRun)")
    }
}
