// swift-tools-version:6.0
//
// Trellis: a workflow platform whose capabilities come from plugins.
// See docs/architecture.md and README.md for the layout.

import PackageDescription

let root = Context.packageDirectory

/// A Swift plugin exports exactly one symbol: `trellis_plugin_entry`.
let swiftPluginExports: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(root)/SDK/exports.map"])
]
/// A C plugin hides everything but the symbol marked TRELLIS_EXPORT.
let cPluginSettings: [CSetting] = [.unsafeFlags(["-fvisibility=hidden"])]

/// A product of the SDK, a package of its own (SDK/Package.swift) that this
/// one uses by path, as a third-party plugin's package uses it.
func sdk(_ product: String) -> Target.Dependency { .product(name: product, package: "SDK") }

/// A bundled plugin: its own module, its own dynamic library product.
struct PluginSpec {
    var name: String
    var path: String
    var swift: Bool
    var dependencies: [Target.Dependency] = []
    /// The ABI header a C plugin compiles against.
    var abi: Target.Dependency = sdk("CTrellisABI")
}

let bundledPlugins: [PluginSpec] = [
    PluginSpec(name: "TrellisChannelStdout", path: "Plugins/channel-stdout", swift: true),
    PluginSpec(name: "TrellisAnalyzerWhitespace", path: "Plugins/analyzer-whitespace", swift: false),
    PluginSpec(name: "TrellisProviderOffline", path: "Plugins/provider-offline", swift: true),
    PluginSpec(name: "TrellisRecoveryFixedDelay", path: "Plugins/recovery-fixed-delay", swift: true),
    PluginSpec(name: "TrellisChannelNull", path: "Plugins/channel-null", swift: false),
    PluginSpec(name: "TrellisRecoveryTimeout", path: "Plugins/recovery-timeout", swift: true),
    PluginSpec(name: "TrellisRecoveryFallback", path: "Plugins/recovery-fallback", swift: true),
    PluginSpec(name: "TrellisRecoveryDegrade", path: "Plugins/recovery-degrade", swift: true),
    PluginSpec(name: "TrellisRecoveryRetry", path: "Plugins/recovery-retry", swift: true),
    PluginSpec(name: "TrellisRecoveryCircuitBreaker", path: "Plugins/recovery-circuit-breaker", swift: true),
    PluginSpec(name: "TrellisRecoveryRateLimit", path: "Plugins/recovery-rate-limit", swift: true),
    PluginSpec(name: "TrellisRecoveryChaos", path: "Plugins/recovery-chaos", swift: true),
    PluginSpec(name: "TrellisRecoveryCacheFallback", path: "Plugins/recovery-cache-fallback", swift: true),
    PluginSpec(name: "TrellisRecoveryHedge", path: "Plugins/recovery-hedge", swift: true),
    PluginSpec(name: "TrellisChannelWebhook", path: "Plugins/channel-webhook", swift: true, dependencies: ["CLibCrypto"]),
    PluginSpec(name: "TrellisChannelEmail", path: "Plugins/channel-email", swift: true),
    PluginSpec(name: "TrellisChannelSlack", path: "Plugins/channel-slack", swift: true),
    PluginSpec(name: "TrellisChannelPush", path: "Plugins/channel-push", swift: true),
    PluginSpec(name: "TrellisChannelSMS", path: "Plugins/channel-sms", swift: true),
    PluginSpec(name: "TrellisChannelTeams", path: "Plugins/channel-teams", swift: true),
    PluginSpec(name: "TrellisChannelGitHub", path: "Plugins/channel-github", swift: true),
    PluginSpec(name: "TrellisProviderOpenAI", path: "Plugins/provider-openai", swift: true),
    PluginSpec(name: "TrellisProviderAnthropic", path: "Plugins/provider-anthropic", swift: true),
    PluginSpec(name: "TrellisProviderGemini", path: "Plugins/provider-gemini", swift: true),
    PluginSpec(name: "TrellisProviderOllama", path: "Plugins/provider-ollama", swift: true),
    PluginSpec(name: "TrellisAnalyzerStandard", path: "Plugins/analyzer-standard", swift: true, dependencies: ["TrellisTextAnalysis"]),
    PluginSpec(name: "TrellisAnalyzerEnglish", path: "Plugins/analyzer-english", swift: true, dependencies: ["TrellisTextAnalysis"]),
    PluginSpec(name: "TrellisAnalyzerNgram", path: "Plugins/analyzer-ngram", swift: true, dependencies: ["TrellisTextAnalysis"]),
    PluginSpec(name: "TrellisAnalyzerRegex", path: "Plugins/analyzer-regex", swift: true, dependencies: ["TrellisTextAnalysis", "CPCRE2"]),
]

/// Deliberately broken (and deliberately old) plugins for the loader tests.
/// Each is a one-line C file that configures the shared fixture body.
let fixturePlugins: [PluginSpec] = [
    "WrongMajor", "NewerMinor", "NoEntry", "NullFunction", "FailingCreate",
    "SmallDescriptor", "UndefinedSymbol", "DuplicateId", "SingleThreaded", "Marker", "Leaky",
].map {
    PluginSpec(name: "TrellisFixture\($0)", path: "Tests/Fixtures/\($0)", swift: false,
               dependencies: ["TrellisFixtureKit"])
} + [
    PluginSpec(name: "TrellisFixtureFrozen10", path: "Tests/Fixtures/Frozen10", swift: false,
               abi: "CTrellisABI_1_0"),
    PluginSpec(name: "TrellisFixtureFrozen12", path: "Tests/Fixtures/Frozen12", swift: false,
               abi: "CTrellisABI_1_2"),
    PluginSpec(name: "TrellisFixtureFlakyChannel", path: "Tests/Fixtures/FlakyChannel", swift: false),
    PluginSpec(name: "TrellisFixtureGate", path: "Tests/Fixtures/Gate", swift: true),
    // The Swift filter docs/search.md shows, word for word (a test compares them).
    PluginSpec(name: "TrellisFixtureShortWordFilter", path: "Tests/Fixtures/ShortWordFilter", swift: true),
]

/// libFuzzer targets (Tests/Fuzz), only when TRELLIS_FUZZ is set: each a
/// dynamic library exporting `LLVMFuzzerTestOneInput`, which Tests/Fuzz/run
/// links into libFuzzer's driver.
let fuzzTargets: [Target] = Context.environment["TRELLIS_FUZZ"] == nil ? [] : [
    .target(name: "TrellisFuzzWorkflowLoader", dependencies: ["TrellisCore"], path: "Tests/Fuzz/WorkflowLoader"),
    .target(name: "TrellisFuzzTemplate", dependencies: ["TrellisCore"], path: "Tests/Fuzz/Template"),
    .target(name: "TrellisFuzzExpression", dependencies: ["TrellisCore"], path: "Tests/Fuzz/Expression"),
    .target(name: "TrellisFuzzManifest", dependencies: ["TrellisCore", "TrellisPluginHost"], path: "Tests/Fuzz/Manifest"),
    .target(name: "TrellisFuzzSearch", dependencies: ["TrellisSearch"], path: "Tests/Fuzz/Search"),
]

func pluginTarget(_ spec: PluginSpec) -> Target {
    if spec.swift {
        return .target(name: spec.name, dependencies: [sdk("TrellisSDK")] + spec.dependencies,
                       path: spec.path, linkerSettings: swiftPluginExports)
    }
    return .target(name: spec.name, dependencies: [spec.abi] + spec.dependencies,
                   path: spec.path, cSettings: cPluginSettings)
}

let package = Package(
    name: "Trellis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "trellis", targets: ["trellis"]),
    ] + (bundledPlugins + fixturePlugins).map {
        .library(name: $0.name, type: .dynamic, targets: [$0.name])
    },
    dependencies: [
        .package(path: "SDK"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        // Host modules.
        .target(name: "TrellisCore", dependencies: [sdk("TrellisJSON"), .product(name: "Yams", package: "Yams")], path: "Host/Core"),
        // libcrypto's HMAC for channel plugins that sign.
        .systemLibrary(name: "CLibCrypto", path: "Plugins/Shared/CLibCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // Unicode word boundaries, case folding, stop words and the English stemmer, for the analyzer plugins.
        .target(name: "TrellisTextAnalysis", dependencies: [sdk("TrellisSDK")], path: "Plugins/Shared/TextAnalysis",
                exclude: ["generate-tables.py"]),
        // PCRE2 (8-bit), for analyzer.regex.
        .systemLibrary(name: "CPCRE2", path: "Plugins/Shared/CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // libcurl, opened on first use, with typed wrappers for its variadic functions.
        .target(name: "CCurl", path: "Host/CCurl"),
        .target(
            name: "TrellisPluginHost",
            dependencies: [
                sdk("CTrellisABI"), sdk("TrellisJSON"), "TrellisCore", "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Host/PluginHost"
        ),
        .target(
            name: "TrellisSearch",
            dependencies: [
                "TrellisCore", "TrellisPluginHost",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Host/Search"
        ),
        .target(
            name: "TrellisStore",
            dependencies: [
                "TrellisCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Host/Store"
        ),
        .target(
            name: "TrellisRuntime",
            dependencies: [
                "TrellisCore", "TrellisStore", "TrellisPluginHost", "TrellisSearch",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Host/Runtime"
        ),
        // `trellis bench`: each benchmark beside the limit it is measured against.
        .target(
            name: "TrellisBenchmarks",
            dependencies: [
                "TrellisCore", "TrellisPluginHost", "TrellisStore", "TrellisRuntime", "TrellisSearch", sdk("CTrellisABI"), "TrellisTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Host/Benchmarks"
        ),
        .executableTarget(
            name: "trellis",
            dependencies: [
                "TrellisPluginHost", "TrellisCore", sdk("CTrellisABI"), "TrellisStore", "TrellisRuntime", "TrellisBenchmarks", "TrellisSearch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Host/trellis"
        ),

        // Test support: the loopback servers the tests (and the benchmarks' receivers) use.
        .target(name: "TrellisTestSupport", dependencies: ["TrellisCore"], path: "Tests/Support"),

        // Test-only C targets: the shared broken-plugin body and the frozen 1.0 and 1.2 headers.
        .target(name: "TrellisFixtureKit", dependencies: [sdk("CTrellisABI")], path: "Tests/Fixtures/Kit"),
        .target(name: "CTrellisABI_1_0", path: "Tests/Fixtures/ABI-1.0"),
        .target(name: "CTrellisABI_1_2", path: "Tests/Fixtures/ABI-1.2"),

        .testTarget(name: "TrellisCoreTests", dependencies: ["TrellisCore"], path: "Tests/CoreTests"),
        .testTarget(name: "TrellisSDKTests", dependencies: [sdk("TrellisSDK")], path: "Tests/SDKTests"),
        .testTarget(
            name: "TrellisPluginHostTests",
            dependencies: [
                "TrellisPluginHost", "TrellisCore", "TrellisTestSupport",
                .product(name: "Logging", package: "swift-log"),
                // Receivers in the tests verify signatures with their own HMAC.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/PluginHostTests"
        ),
        .testTarget(name: "TrellisStoreTests", dependencies: ["TrellisStore", "TrellisCore"], path: "Tests/StoreTests"),
        .testTarget(
            name: "TrellisSearchTests",
            dependencies: ["TrellisSearch", "TrellisPluginHost", "TrellisCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/SearchTests"
        ),
        .testTarget(name: "TrellisTextAnalysisTests", dependencies: ["TrellisTextAnalysis"], path: "Tests/TextAnalysisTests"),
        .testTarget(
            name: "TrellisRuntimeTests",
            dependencies: [
                "TrellisRuntime", "TrellisStore", "TrellisCore", "TrellisPluginHost", "TrellisTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Tests/RuntimeTests"
        ),
        .testTarget(name: "TrellisEndToEndTests", dependencies: ["TrellisCore", "TrellisPluginHost", "TrellisTestSupport"], path: "Tests/EndToEndTests"),
    ] + (bundledPlugins + fixturePlugins).map(pluginTarget) + fuzzTargets
)
if Context.environment["TRELLIS_FUZZ"] != nil {
    package.products += fuzzTargets.map { .library(name: $0.name, type: .dynamic, targets: [$0.name]) }
}
