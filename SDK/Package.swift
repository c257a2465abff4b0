// swift-tools-version:6.0
//
// The Trellis plugin SDK: the C ABI headers (CTrellisABI), the JSON and
// ABI-string vocabulary the host shares (TrellisJSON), and the Swift layer
// for plugin authors (TrellisSDK). A plugin depends on this package
// alone, never on the host: it builds in seconds and pulls in nothing else.
// No unsafe flags here, so that it can be depended on by version; a Swift
// plugin passes its own linker script (see exports.map) in its package.

import PackageDescription

let package = Package(
    name: "TrellisSDK",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TrellisSDK", targets: ["TrellisSDK"]),
        .library(name: "CTrellisABI", targets: ["CTrellisABI"]),
        .library(name: "TrellisJSON", targets: ["TrellisJSON"]),
    ],
    targets: [
        .target(name: "CTrellisABI", path: "CTrellisABI"),
        // JSON (value, reader, writer, one number rule) and the ABI string
        // helpers: the one vocabulary of the host and the SDK.
        .target(name: "TrellisJSON", dependencies: ["CTrellisABI"], path: "TrellisJSON"),
        .target(name: "TrellisSDK", dependencies: ["CTrellisABI", "TrellisJSON"], path: "TrellisSDK"),
    ]
)
