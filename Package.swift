// swift-tools-version:6.0
import PackageDescription

// MARK: - External dependencies, named once

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
let swiftASN1: Target.Dependency = .product(name: "SwiftASN1", package: "swift-asn1")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "cpsd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cpsd", targets: ["cpsd"]),
        .executable(name: "cps-vcard", targets: ["cps-vcard"]),
        .executable(name: "cpsctl", targets: ["cpsctl"]),
        .executable(name: "cps-demo-rp", targets: ["cps-demo-rp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // The layers, lowest first. A target imports only targets of lower layers; scripts/check-layers.py
        // (run by `make test`) holds the same list and fails on an import from a layer above, or on a
        // dependency declared here that no file of the target imports.

        // MARK: - Layer 0: C modules (only CInterop/ folders import them)

        .systemLibrary(
            name: "CPCSCLite",
            path: "CModules/CPCSCLite",
            pkgConfig: "libpcsclite",
            providers: [.apt(["libpcsclite-dev"])]
        ),
        .systemLibrary(
            name: "CP11Kit",
            path: "CModules/CP11Kit",
            pkgConfig: "p11-kit-1",
            providers: [.apt(["libp11-kit-dev"])]
        ),

        // MARK: - Layer 1: the one error shape (CodedError), under every target

        .target(name: "ErrorShape", swiftSettings: swiftSettings),

        // MARK: - Layer 2: vocabulary (types and rules, no I/O)

        .target(name: "SmartCardCore", dependencies: ["ErrorShape"], swiftSettings: swiftSettings),
        .target(name: "PartialHash", dependencies: ["ErrorShape"], swiftSettings: swiftSettings),
        .target(name: "PKCS11Constants", swiftSettings: swiftSettings),
        .target(name: "BridgeProtocol", dependencies: ["ErrorShape"], swiftSettings: swiftSettings),
        .target(name: "WebEid", dependencies: ["ErrorShape", crypto], swiftSettings: swiftSettings),

        // MARK: - Layer 3: edges (one outside thing each: PC/SC, a card protocol, p11-kit, a program, a socket)

        .target(name: "PCSC", dependencies: ["ErrorShape", "SmartCardCore", "CPCSCLite"], swiftSettings: swiftSettings),
        .target(
            name: "VirtualCard",
            dependencies: ["ErrorShape", "SmartCardCore", "PartialHash", crypto, cryptoExtras, x509, swiftASN1],
            swiftSettings: swiftSettings
        ),
        .target(name: "IASECC", dependencies: ["ErrorShape", "SmartCardCore", "PartialHash"], swiftSettings: swiftSettings),
        .target(name: "CardIdentity", dependencies: ["ErrorShape", "SmartCardCore", x509, swiftASN1], swiftSettings: swiftSettings),
        .target(name: "LocalCA", dependencies: ["ErrorShape", crypto, x509, swiftASN1], swiftSettings: swiftSettings),
        .target(name: "PinEntry", dependencies: ["ErrorShape", "SmartCardCore"], swiftSettings: swiftSettings),
        .target(name: "PKCS11", dependencies: ["ErrorShape", "SmartCardCore", "PKCS11Constants", swiftASN1, crypto], swiftSettings: swiftSettings),
        .target(name: "P11KitClient", dependencies: ["ErrorShape", "PKCS11Constants", "SmartCardCore", "CP11Kit"], swiftSettings: swiftSettings),
        .target(
            name: "BridgeClient", dependencies: ["ErrorShape", nioCore, nioPosix, nioHTTP1, nioSSL, x509, swiftASN1],
            swiftSettings: swiftSettings
        ),
        .target(name: "VirtualReaderStack", dependencies: ["ErrorShape", "SmartCardCore"], swiftSettings: swiftSettings),

        // MARK: - Layer 4: services (the daemon's card service, the PKCS#11 server, the diagnostics, the relying party)

        .target(name: "CardDaemon", dependencies: ["SmartCardCore", "IASECC", "PKCS11", "PKCS11Constants", logging], swiftSettings: swiftSettings),
        .target(name: "P11KitServer", dependencies: ["ErrorShape", "PKCS11", "PKCS11Constants", "SmartCardCore", "CP11Kit"], swiftSettings: swiftSettings),
        .target(
            name: "Diagnostics",
            dependencies: ["ErrorShape", 
                "SmartCardCore", "PCSC", "IASECC", "CardIdentity", "LocalCA", "P11KitClient", "BridgeProtocol",
                "BridgeClient", x509, swiftASN1, nioCore, nioHTTP1, nioSSL,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WebEidRelyingParty",
            dependencies: ["ErrorShape", "WebEid", "CardIdentity", crypto, cryptoExtras, x509, swiftASN1],
            swiftSettings: swiftSettings
        ),

        // MARK: - Layer 5: the browser bridge (on the card service), the demo relying party's server

        .target(
            name: "BrowserBridge",
            dependencies: ["ErrorShape", 
                "CardDaemon", "PKCS11", "PKCS11Constants", "SmartCardCore", "CardIdentity", "LocalCA", "WebEid", "PinEntry",
                "BridgeProtocol", crypto, logging, nioCore, nioPosix, nioHTTP1, nioSSL,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DemoRelyingParty",
            dependencies: ["ErrorShape", 
                "WebEid", "WebEidRelyingParty", "CardIdentity", "LocalCA", x509, swiftASN1, nioCore, nioPosix, nioHTTP1, nioSSL,
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Layer 6: executables (argument parsing, composition, printing)

        .executableTarget(
            name: "cpsd",
            dependencies: ["ErrorShape", 
                "CardDaemon", "P11KitServer", "PKCS11", "PCSC", "SmartCardCore", "BrowserBridge", "BridgeProtocol",
                "LocalCA", "PinEntry", argumentParser, logging, serviceLifecycle, unixSignals,
            ],
            swiftSettings: swiftSettings,
            // Nothing loads symbols from cpsd: exporting its 130,000 would only make the loader read a 3 MB
            // table at every start and keep it resident.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"])]
        ),
        .executableTarget(
            name: "cps-vcard",
            dependencies: ["VirtualCard", "VirtualReaderStack", "SmartCardCore", argumentParser],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cpsctl",
            dependencies: [
                "SmartCardCore", "PCSC", "IASECC", "CardIdentity", "LocalCA", "WebEid", "PKCS11Constants", "P11KitClient",
                "BridgeProtocol", "BridgeClient", "Diagnostics", argumentParser, x509, swiftASN1, nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "cps-demo-rp",
            dependencies: ["DemoRelyingParty", "WebEid", "WebEidRelyingParty", "CardIdentity", argumentParser],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests

        .target(
            name: "CardTestSupport",
            dependencies: ["ErrorShape", "SmartCardCore", "PCSC", "VirtualCard", "VirtualReaderStack", "IASECC", "WebEid"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SmartCardCoreTests", dependencies: ["ErrorShape", "SmartCardCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "P11KitClientTests", dependencies: ["P11KitClient", "PKCS11Constants", nioCore, nioPosix],
            swiftSettings: swiftSettings
        ),
        // Every check of `cpsctl diag`, its runner and the support bundle, in process on fake seams.
        .testTarget(
            name: "DiagnosticsTests",
            dependencies: [
                "Diagnostics", "SmartCardCore", "PCSC", "P11KitClient", "CardIdentity", "LocalCA", "BridgeProtocol",
                "CardTestSupport", "VirtualCard",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IASECCTests",
            dependencies: [
                "IASECC", "CardIdentity", "SmartCardCore", "PartialHash", "CardTestSupport", "VirtualCard", crypto,
                cryptoExtras, x509, swiftASN1,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CardIdentityTests",
            dependencies: ["CardIdentity", "CardTestSupport", "VirtualCard", "SmartCardCore", x509, swiftASN1],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrowserBridgeTests",
            dependencies: [
                "BrowserBridge", "BridgeProtocol", "CardDaemon", "CardTestSupport", "VirtualCard", "PKCS11", "SmartCardCore",
                crypto, cryptoExtras, x509, swiftASN1, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LocalCATests", dependencies: ["LocalCA", x509, swiftASN1], swiftSettings: swiftSettings),
        .testTarget(name: "PinEntryTests", dependencies: ["PinEntry", "SmartCardCore"], swiftSettings: swiftSettings),
        .testTarget(name: "PartialHashTests", dependencies: ["PartialHash", crypto], swiftSettings: swiftSettings),
        .testTarget(
            name: "VirtualCardTests",
            dependencies: [
                "VirtualCard", "SmartCardCore", "PartialHash", "CardTestSupport", crypto, cryptoExtras, x509, swiftASN1,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PCSCTests",
            dependencies: ["PCSC", "SmartCardCore", "CardTestSupport", "VirtualCard", "VirtualReaderStack"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CardDaemonTests",
            dependencies: [
                "CardDaemon", "CardTestSupport", "VirtualCard", "VirtualReaderStack", "IASECC", "PKCS11", "PKCS11Constants",
                "SmartCardCore", "PCSC", logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["SmartCardCore", "PCSC", "CardTestSupport", "VirtualCard", "VirtualReaderStack", "WebEid"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PKCS11Tests",
            dependencies: [
                "PKCS11", "PKCS11Constants", "P11KitServer", "SmartCardCore", "CardTestSupport", "IASECC", "VirtualCard",
                "CardDaemon", crypto, cryptoExtras, x509, swiftASN1, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "WebEidTests", dependencies: ["WebEid", crypto], swiftSettings: swiftSettings),
        .testTarget(
            name: "WebEidRelyingPartyTests",
            dependencies: [
                "WebEidRelyingParty", "DemoRelyingParty", "WebEid", "CardIdentity", "CardTestSupport", "IASECC",
                "VirtualCard", "SmartCardCore", crypto, cryptoExtras, x509, swiftASN1,
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
