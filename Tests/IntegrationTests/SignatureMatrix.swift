import CardTestSupport
import Foundation

/// `cpsctl sign` with every key and mechanism, each signature checked by OpenSSL with the certificate
/// exported beforehand (auth.pem, sig.pem in the directory). Shared by the direct and the through-cpsd tests.
enum SignatureMatrix {
    struct Outcome {
        let key: String
        let mechanism: String
        let sign: ToolRunner.Result
        let check: ToolRunner.Result
        var label: String { "\(key) \(mechanism)" }
        var verified: Bool { sign.status == 0 && check.status == 0 && check.stdout.contains("Verified") }
    }

    /// Writes the document, its SHA-256 DigestInfo (what TLS 1.2 client authentication hands to CKM_RSA_PKCS)
    /// and both public keys into `directory`, then signs and verifies the six combinations.
    static func run(
        cpsctl: String, options: String, directory: String, environment: [String: String], pinFile: String
    ) throws -> [Outcome] {
        let setup = """
            cd \(directory) && printf 'ordonnance du 27/11' > data \
            && openssl x509 -in auth.pem -pubkey -noout > auth.pub && openssl x509 -in sig.pem -pubkey -noout > sig.pub \
            && openssl dgst -sha256 -binary data > data.sha256
            """
        guard try ToolRunner.shell(setup).status == 0 else { throw RealStackError("cannot prepare \(directory)") }
        let digest = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/data.sha256"))
        let prefix: [UInt8] = [
            0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
        ]
        try (Data(prefix) + digest).write(to: URL(fileURLWithPath: "\(directory)/data.di"))
        var outcomes: [Outcome] = []
        for key in ["auth", "sig"] {
            for (mechanism, input, verify) in [
                ("SHA256-RSA-PKCS", "data", "openssl dgst -sha256 -verify \(key).pub -signature OUT data"),
                ("SHA1-RSA-PKCS", "data", "openssl dgst -sha1 -verify \(key).pub -signature OUT data"),
                ("RSA-PKCS", "data.di", "openssl pkeyutl -verify -pubin -inkey \(key).pub -in data.di -sigfile OUT"),
            ] {
                let out = "\(key)-\(mechanism).sig"
                let sign = try ToolRunner.shell(
                    "cd \(directory) && \(cpsctl) sign \(options) --key \(key) --mechanism \(mechanism) --in \(input) --out \(out) --pin-fd 3 3<\(pinFile)",
                    environment: environment)
                let check = try ToolRunner.shell("cd \(directory) && " + verify.replacingOccurrences(of: "OUT", with: out))
                outcomes.append(Outcome(key: key, mechanism: mechanism, sign: sign, check: check))
            }
        }
        return outcomes
    }
}
