// swift-tools-version:6.0
//
// The Trellis plugin SDK: the C ABI headers (CTrellisABI) and the Swift
// layer for plugin authors (TrellisSDK). A plugin depends on this package
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
    ],
    targets: [
        .target(name: "CTrellisABI", path: "CTrellisABI"),
        .target(name: "TrellisSDK", dependencies: ["CTrellisABI"], path: "TrellisSDK"),
    ]
)
