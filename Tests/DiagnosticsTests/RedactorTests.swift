import Testing

@testable import Diagnostics

/// The support bundle's redaction, on sample text shaped like what cpsd, cpsctl and diag print.
@Suite("cpsctl diag --bundle: Redactor")
struct RedactorTests {
    static let redactor = Redactor(
        knownValues: ["899700218896", "ROBERT", "MEDECIN0021889"], home: "/home/jdupont", loginNames: ["jdupont", "root"])

    static func redact(_ text: String) -> String { redactor.redact(text) }

    @Test("card serials of any length go, with the words that introduce them kept")
    func serials() {
        #expect(Self.redact("token CPS3v3-12345678 in slot 0") == "token CPS3v3-<serial> in slot 0")
        #expect(Self.redact("CPS3v3-0123456789") == "CPS3v3-<serial>")
        #expect(Self.redact("token CPS4v1-3100603746 read") == "token CPS4v1-<serial> read")
        #expect(Self.redact("info cpsd: generation=1 pin_tries_left=3 serial=12345678 card read")
            == "info cpsd: generation=1 pin_tries_left=3 serial=<serial> card read")
        #expect(Self.redact(#"{"serialNumber": "87654321", "pinTriesLeft": 3}"#) == #"{"serialNumber": "<serial>", "pinTriesLeft": 3}"#)
        #expect(Self.redact("card CPS, serial 2501 (short)") == "card CPS, serial <serial> (short)")
        #expect(Self.redact("serial number 0A:1B:2C:3D") == "serial number <serial>")
        // Words after "serial" that are not serials stay.
        #expect(Self.redact("no serial found") == "no serial found")
    }

    @Test("the home directory becomes ~ (as a path component only) and the login name goes; root stays")
    func homeAndLogin() {
        #expect(Self.redact("nssdb /home/jdupont/.pki/nssdb ok") == "nssdb ~/.pki/nssdb ok")
        #expect(Self.redact("HOME=/home/jdupont") == "HOME=~")
        #expect(Self.redact("/home/jdupontx/file") == "/home/jdupontx/file")
        #expect(Self.redact("audit=signature uid=1000 user jdupont exe=/usr/bin/firefox")
            == "audit=signature uid=1000 user <user> exe=/usr/bin/firefox")
        #expect(Self.redact("/var/mail/jdupont") == "/var/mail/<user>")
        #expect(Self.redact("jdupontette") == "jdupontette")
        #expect(Self.redact("chain to the root CA ok") == "chain to the root CA ok")
    }

    @Test("reader names keep their model and slot numbers, lose the USB serial")
    func readers() {
        #expect(Self.redact("reader=Gemalto PC Twin Reader (A1B2C3D4) 00 00 slot=0")
            == "reader=Gemalto PC Twin Reader (<serial>) 00 00 slot=0")
        #expect(Self.redact("Identiv uTrust 3700 F CL Reader [uTrust 3700 F Contactless Interface] (55041805602531) 01 00")
            == "Identiv uTrust 3700 F CL Reader [uTrust 3700 F Contactless Interface] (<serial>) 01 00")
        #expect(Self.redact("Virtual PCD 00 00") == "Virtual PCD 00 00")
        #expect(Self.redact("Alcor Micro AU9540 00 00") == "Alcor Micro AU9540 00 00")
    }

    @Test("site origins and extension instances go; the bridge's loopback address and cpsd's own extension id stay")
    func origins() {
        #expect(Self.redact("origin=https://ameli.fr/espace-pro extension=moz-extension://3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b result=ok")
            == "origin=https://<site> extension=moz-extension://<extension-uuid> result=ok")
        #expect(Self.redact("origin=http://intranet.clinique.local:8080") == "origin=http://<site>")
        #expect(Self.redact("bridge https://127.0.0.1:36443 and https://[::1]:36443, https://localhost:36443")
            == "bridge https://127.0.0.1:36443 and https://[::1]:36443, https://localhost:36443")
        #expect(Self.redact("chrome-extension://bbdifahjkphgjdfopbedhkhkaijgdhbk paired")
            == "chrome-extension://bbdifahjkphgjdfopbedhkhkaijgdhbk paired")
        #expect(Self.redact("chrome-extension://abcdefghijklmnopabcdefghijklmnop paired")
            == "chrome-extension://<extension-id> paired")
        #expect(Self.redact("extension abcdefghijklmnopabcdefghijklmnop enabled") == "extension <extension-id> enabled")
        #expect(Self.redact("profile 0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0") == "profile <uuid>")
    }

    @Test("idNat, RPPS, ADELI, FINESS, SIRET and holder names go, counts and statuses stay")
    func identifiers() {
        let line = "card.identity ok: CPS, holder ROBERT MEDECIN0021889, RPPS 899700218896, serial 12345678; PIN 3/3 tries left"
        let redacted = Self.redact(line)
        for secret in ["ROBERT", "MEDECIN0021889", "899700218896", "12345678"] {
            #expect(!redacted.contains(secret), "\(secret) in \(redacted)")
        }
        #expect(redacted.hasPrefix("card.identity ok: CPS, holder "))
        #expect(redacted.hasSuffix("PIN 3/3 tries left"))
        // Values of another card (not known to this run) go by shape.
        #expect(Self.redact("idNat 810001234567 ADELI 0751234567 FINESS 750712184 SIRET 12345678901234")
            == "idNat <number> ADELI <number> FINESS <number> SIRET <number>")
        #expect(Self.redact("holder=JEANNE D'ARC-MARTIN idnat=x") == "holder=<name> idnat=x")
        #expect(Self.redact("holder Anne Dupont, RPPS") == "holder <name>, RPPS")
        // Small numbers a supporter needs stay.
        #expect(Self.redact("pid 4242 duration_ms=118 readers 2 uid=1000") == "pid 4242 duration_ms=118 readers 2 uid=1000")
    }

    @Test("disabled (--no-redact): the text is unchanged")
    func disabled() {
        let text = "CPS3v3-12345678 /home/jdupont https://ameli.fr 899700218896"
        let redactor = Redactor(knownValues: ["899700218896"], home: "/home/jdupont", loginNames: ["jdupont"], enabled: false)
        #expect(redactor.redact(text) == text)
    }

    @Test("every built-in pattern compiles (a broken one would replace the whole file)")
    func patternsCompile() {
        #expect(!Self.redact("plain text").contains("redaction failed"))
        #expect(Self.redact("plain text") == "plain text")
    }
}
