// swift-tools-version:6.0
//
// A third-party Trellis plugin, as its author would write it: its own
// package, depending only on the Trellis SDK package (the SDK/ folder of
// the Trellis repository: the ABI headers and the Swift layer, nothing of
// the host). Here it comes from this checkout by path; a published plugin
// names the SDK's repository and a version instead, e.g.
//   .package(url: "https://github.com/<owner>/trellis-sdk", from: "1.0.0")

import PackageDescription

let package = Package(
    name: "HelloPlugin",
    products: [
        // A plugin is a dynamic library.
        .library(name: "HelloChannel", type: .dynamic, targets: ["HelloChannel"]),
    ],
    dependencies: [
        .package(path: "../../../SDK"),
    ],
    targets: [
        .target(
            name: "HelloChannel",
            dependencies: [.product(name: "TrellisSDK", package: "SDK")],
            // Export nothing but trellis_plugin_entry.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/exports.map"])]
        ),
    ]
)
