/// The published browser extension's identities, which the bridge admits and diag looks for.
package enum BridgeExtensionIDs {
    /// The Chromium extension id (its manifest key is Packaging/webextension/manifest-key.txt).
    package static let chromium = "bbdifahjkphgjdfopbedhkhkaijgdhbk"
    /// The Firefox add-on id.
    package static let firefox = "cpsd-bridge@cpsd.invalid"
}
