import ArgumentParser
import Foundation
import TrellisPluginHost

struct Registry: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with plugin manifests.",
        subcommands: [Stamp.self])

    struct Stamp: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish manifests for locally built plugins, recording each library's sha256.",
            discussion: """
                Reads every manifest under --source (or those of --only), opens the library it names in \
                --libraries and checks that the manifest describes it (id, kind, version, ABI, interfaces), \
                computes its sha256, and writes the completed manifest to --output/<id>/<version>.json. \
                The host refuses a library whose sha256 differs from its manifest, so run this \
                again after every build of the bundled plugins.
                """)

        @Option(help: ArgumentHelp("Manifests to publish.", valueName: "dir"))
        var source = "registry"

        @Option(help: ArgumentHelp("Where the built libraries are. Default: next to this trellis binary.", valueName: "dir"))
        var libraries: String?

        @Option(help: ArgumentHelp("Where to write the manifests. Default: <libraries>/registry.", valueName: "dir"))
        var output: String?

        @Option(help: ArgumentHelp("Also sign each manifest with this private key (from `trellis keys generate`).", valueName: "file"))
        var key: String?

        @Option(help: "With --key: the publisher's name, as deployments list it under trust.publishers.")
        var publisher: String?

        @Option(help: ArgumentHelp("Stamp only this plugin (repeatable).", valueName: "id"))
        var only: [String] = []

        func validate() throws {
            if (key == nil) != (publisher == nil) { throw ValidationError("--key and --publisher go together") }
        }

        func run() throws {
            let libraries = libraries ?? DeploymentOptions.binaryDirectory
            let output = output ?? URL(fileURLWithPath: libraries).appendingPathComponent("registry").path
            guard FileManager.default.fileExists(atPath: source) else {
                throw ValidationError("no manifest directory at '\(source)': run from the Trellis checkout or pass --source")
            }
            var signer: (key: PluginSignature.PrivateKey, publisher: String)?
            if let key, let publisher {
                do {
                    signer = (try PluginSignature.privateKey(try String(contentsOfFile: key, encoding: .utf8)), publisher)
                } catch {
                    throw ValidationError("\(key): \(error)")
                }
            }
            let written: [(PluginManifest, String)]
            do {
                written = try PluginRegistry.stamp(source: source, libraries: libraries, output: output, signer: signer,
                                                   only: only.isEmpty ? nil : Set(only))
            } catch let error as PluginLoadError {
                warn("error: \(error.description)")
                throw ExitCode(1)
            }
            for (manifest, path) in written {
                print("\(manifest.id) \(manifest.version)  sha256 \(manifest.library.sha256 ?? "")"
                      + (signer.map { " signed by \($0.publisher)" } ?? "") + "  → \(path)")
            }
            print("stamped \(written.count) manifest\(written.count == 1 ? "" : "s") into \(output)")
        }
    }
}
