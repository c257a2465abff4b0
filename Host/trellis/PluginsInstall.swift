import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

extension Plugins {
    struct Pack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a signed package of a plugin, ready for `trellis plugins install`.",
            discussion: """
                Opens LIB and checks that MANIFEST describes it (id, kind, version, ABI, interfaces), records \
                the library's sha256 in the manifest, signs it with the publisher's key, and writes \
                OUTPUT/<id>/<version>.json and OUTPUT/<id>/<version>/<library file>. Publish the OUTPUT folder; \
                admins install from it with `trellis plugins install <id> --from OUTPUT`.
                """)

        @Argument(help: ArgumentHelp("The built library (.so).", valueName: "lib")) var library: String
        @Argument(help: ArgumentHelp("Its manifest (JSON).", valueName: "manifest")) var manifest: String
        @Option(help: ArgumentHelp("The publisher's private key file (from `trellis keys generate`).", valueName: "file")) var key: String
        @Option(help: "The publisher's name, as deployments list it under trust.publishers. Default: the key file's name.")
        var publisher: String?
        @Option(help: ArgumentHelp("The package folder to write into.", valueName: "dir")) var output = "dist"

        func run() throws {
            let privateKey: PluginSignature.PrivateKey
            do {
                privateKey = try PluginSignature.privateKey(try String(contentsOfFile: key, encoding: .utf8))
            } catch let error as PluginSignature.SignatureError {
                throw CLIError("\(key): \(error)")
            } catch {
                throw CLIError("\(key) cannot be read: \(error.localizedDescription)")
            }
            let name = publisher ?? URL(fileURLWithPath: key).deletingPathExtension().lastPathComponent
            let packed: PluginManifest
            do {
                packed = try PluginRegistry.stamped(try PluginManifest.load(path: manifest), library: library,
                                                    signer: (privateKey, name))
            } catch {
                throw CLIError("\(error)")
            }
            let folder = URL(fileURLWithPath: output).appendingPathComponent(packed.id)
            let libraryFolder = folder.appendingPathComponent(packed.version)
            let libraryTarget = libraryFolder.appendingPathComponent(packed.library.file)
            let manifestTarget = folder.appendingPathComponent("\(packed.version).json")
            do {
                try FileManager.default.createDirectory(at: libraryFolder, withIntermediateDirectories: true)
                try? FileManager.default.removeItem(at: libraryTarget)
                try FileManager.default.copyItem(atPath: library, toPath: libraryTarget.path)
                try PluginRegistry.write(packed, to: manifestTarget.path)
            } catch {
                throw CLIError("cannot write the package into \(output): \(error.localizedDescription)")
            }
            print("\(packed.id) \(packed.version) signed by \(name)  sha256 \(packed.library.sha256 ?? "")")
            print("  \(manifestTarget.path)\n  \(libraryTarget.path)")
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a plugin from a package folder into the deployment.",
            discussion: """
                Picks the newest version of the plugin in FOLDER (within @RANGE when given, e.g. \
                channel.acme@^1.2), verifies it as the deployment would before loading it — the signature \
                against trust.publishers, the library against the manifest's sha256, the file as a shared \
                library — without opening it, then copies the library into the first plugin path and the \
                manifest into the first registry folder, replacing any other installed version. \
                Enable it afterwards with `trellis plugins enable <id>`.
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Argument(help: ArgumentHelp("The plugin id, with an optional version range: channel.acme or channel.acme@^1.2.",
                                     valueName: "id[@range]"))
        var target: String

        @Option(name: .customLong("from"), help: ArgumentHelp("The package folder (what `trellis plugins pack` writes).", valueName: "folder"))
        var folder: String

        func run() throws {
            _ = deployment.makeLogger()
            let (id, range) = try Self.parse(target)
            let configuration = try deployment.load()
            let source = try PluginSource.opened(folder)
            guard let package = source.newest(id, in: range) else {
                throw CLIError(source.absence(of: id, in: range))
            }
            let installer = PluginInstaller(configuration: configuration)
            let previous = installer.installed(id)
            let installation: PluginInstaller.Installation
            do {
                installation = try installer.install(package)
            } catch {
                throw CLIError("\(id) was not installed: \(error.description)")
            }
            print(Self.describe(installation, previous: previous))
            if let settings = configuration.plugins[id] {
                if let wanted = settings.version, let version = installation.manifest.semanticVersion, !wanted.contains(version) {
                    warn("warning: the deployment config asks for \(id) \(wanted), which \(installation.manifest.version) is not; "
                         + "change `version:` or the host will not load it")
                }
                if !settings.enabled { print("it is disabled in the deployment config: `trellis plugins enable \(id)`") }
            } else {
                print("enable it with: trellis plugins enable \(id)")
            }
        }

        static func parse(_ target: String) throws -> (String, VersionRange?) {
            guard let at = target.firstIndex(of: "@") else {
                guard isValidPluginID(target) else { throw ValidationError("'\(target)' is not a plugin id (kind.name)") }
                return (target, nil)
            }
            let id = String(target[..<at]), text = String(target[target.index(after: at)...])
            guard isValidPluginID(id) else { throw ValidationError("'\(id)' is not a plugin id (kind.name)") }
            do {
                return (id, try VersionRange(text))
            } catch {
                throw ValidationError("'\(text)' after the '@' is not a version range (\(error)); write e.g. \(id)@^1.2")
            }
        }

        static func describe(_ installation: PluginInstaller.Installation, previous: PluginManifest?) -> String {
            let manifest = installation.manifest
            let signer = manifest.publisher.map { " signed by \($0.name)" } ?? " (unsigned)"
            let change = previous.map { $0.version == manifest.version ? "reinstalled \(manifest.id) \(manifest.version)"
                : "\(manifest.id) \($0.version) → \(manifest.version)" } ?? "installed \(manifest.id) \(manifest.version)"
            return "\(change)\(signer)\n  library:  \(installation.libraryPath)\n  manifest: \(installation.manifestPath)"
                + installation.removed.map { "\n  removed:  \($0)" }.joined()
        }
    }

    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upgrade installed plugins to the newest signed version in a package folder.",
            discussion: """
                For each plugin (those named, else every plugin installed in the deployment's registry folder \
                or listed in its config that FOLDER has), picks the newest version within the deployment \
                config's `version:` range that is signed by a key the deployment trusts, and installs it when it \
                is newer than the installed one, verified as `trellis plugins install` verifies. Newer versions \
                that are unsigned, or signed by an untrusted or revoked key, are skipped and named. Exits with \
                status 1 when a plugin has no such version or could not be upgraded.
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Argument(help: ArgumentHelp("Plugin ids (default: all installed).", valueName: "id")) var ids: [String] = []

        @Option(name: .customLong("from"), help: ArgumentHelp("The package folder.", valueName: "folder")) var folder: String

        func run() throws {
            _ = deployment.makeLogger()
            let configuration = try deployment.load()
            let source = try PluginSource.opened(folder)
            let installer = PluginInstaller(configuration: configuration)
            let installedIDs = Set(PluginRegistry(directories: installer.registryDirectory.map { [$0] } ?? []).ids)
            let listed = Set(configuration.plugins.keys.map(PluginInstanceName.pluginID))
            let chosen = ids.isEmpty ? installedIDs.union(listed).intersection(source.ids).sorted() : ids
            guard !chosen.isEmpty else {
                print("nothing to upgrade: no installed plugin is in \(folder)")
                return
            }
            var failures = 0
            for id in chosen {
                let range = configuration.plugins[id]?.version
                let current = installer.installed(id)
                // The newest version this deployment would load: signed, by a key it trusts.
                var skipped: [String] = []
                var chosen: PluginPackage?
                for package in source.versions(id, in: range) {
                    guard package.manifest.publisher?.signature != nil else {
                        skipped.append("\(package.manifest.version) is unsigned")
                        continue
                    }
                    if let refusal = configuration.trust.refusal(package.manifest, allowUnsigned: false, path: package.manifestPath) {
                        skipped.append("\(package.manifest.version): \(refusal.message)")
                        continue
                    }
                    chosen = package
                    break
                }
                for reason in skipped { print("\(id): skipped \(reason)") }
                guard let package = chosen else {
                    print("\(id): no signed version this deployment trusts\(range.map { " within \($0)" } ?? "") in \(folder)")
                    failures += 1
                    continue
                }
                if let current, let installed = current.semanticVersion, let offered = package.manifest.semanticVersion, offered <= installed {
                    print("\(id) \(current.version) is up to date (newest signed in \(folder): \(package.manifest.version))")
                    continue
                }
                do {
                    print(Install.describe(try installer.install(package), previous: current))
                } catch {
                    warn("\(id) was not upgraded: \(error.description)")
                    failures += 1
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}

extension PluginSource {
    /// The folder's packages, refusing a folder that is not there.
    static func opened(_ folder: String) throws -> PluginSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("no package folder at \(folder) (give the folder `trellis plugins pack --output` wrote)")
        }
        let source = PluginSource(folder: folder)
        for problem in source.problems { warn("warning: \(problem.description)") }
        return source
    }

    /// Why no package of `id` is chosen.
    func absence(of id: String, in range: VersionRange?) -> String {
        let versions = (packages[id] ?? []).map(\.manifest.version).sorted()
        if versions.isEmpty {
            var message = "no package of \(id) in \(folder)"
            if let suggestion = closest(to: id, in: ids) { message += "; did you mean '\(suggestion)'?" }
            return message + (ids.isEmpty ? " (it holds none)" : " (it holds \(ids.joined(separator: ", ")))")
        }
        return "no version of \(id) in \(folder) is within \(range?.description ?? "*") (it has \(versions.joined(separator: ", ")))"
    }
}
