extension DiagRunner {
    /// Where practice software loads Cryptolib CPS (cryptolib-pkcs11.md §1).
    static let cryptolibModulePath = "/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so"

    /// Is the vendor's middleware installed beside cpsd? Both then drive the same readers: they coexist
    /// (README "Beside Cryptolib"), with one limit the installer should know.
    func cryptolibCheck() {
        let path = environment.variables["CPSD_CRYPTOLIB_PATH"] ?? Self.cryptolibModulePath
        guard environment.files.fileExists(path) else {
            add(.ok("middleware.cryptolib", "Cryptolib CPS is not installed (\(path)): cpsd alone drives the card readers"))
            return
        }
        let resolved = environment.files.resolvingSymlinks(path)
        if resolved.contains("/cpsd/") {
            add(.ok("middleware.cryptolib", "cpsd's Cryptolib-compatible module is at Cryptolib's path (\(resolved)), for practice software"))
            return
        }
        add(.warn(
            "middleware.cryptolib",
            "Cryptolib CPS is installed (\(resolved)): two middlewares share the card readers",
            remedy: "They work side by side (cpsd leaves a card Cryptolib verified as it found it), but a Cryptolib call running while cpsd resets a card nobody had verified can fail once. To use cpsd alone, uninstall Cryptolib (rpm -e CryptolibCPS); cpsd's package then puts its own module at that path."))
    }
}
