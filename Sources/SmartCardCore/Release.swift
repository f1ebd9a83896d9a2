/// The release of every program of the project (cpsd, cpsctl, cps-vcard): one number, so a support
/// bundle, `cpsctl diag` and the bridge's `/v1/status` never disagree.
package enum Release {
    package static let version = "0.5.0"
}
