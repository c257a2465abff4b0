// swift-tools-version:6.0
//
// A third-party Trellis plugin, as its author would write it: its own
// package, depending only on the Trellis SDK. Here the SDK comes from this
// checkout by path; a published plugin names the Trellis repository and a
// version instead:
//   .package(url: "https://github.com/<owner>/trellis", from: "1.0.0")

import PackageDescription

let package = Package(
    name: "HelloPlugin",
    products: [
        // A plugin is a dynamic library.
        .library(name: "HelloChannel", type: .dynamic, targets: ["HelloChannel"]),
    ],
    dependencies: [
        .package(name: "Trellis", path: "../../.."),
    ],
    targets: [
        .target(
            name: "HelloChannel",
            dependencies: [.product(name: "TrellisSDK", package: "Trellis")],
            // Export nothing but trellis_plugin_entry.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/exports.map"])]
        ),
    ]
)
