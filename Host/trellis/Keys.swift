import ArgumentParser
import Foundation
import TrellisPluginHost

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make and list the Ed25519 keys publishers sign plugin manifests with.",
        discussion: """
            A deployment trusts a publisher by listing its public key under trust.publishers in the \
            deployment config (`trellis keys trust` writes it there); it then loads only plugins signed by a \
            key it trusts, and never one signed by a key under trust.revoked (`trellis keys revoke`). \
            See docs/admin.md, "Signed plugins".
            """,
        subcommands: [Generate.self, List.self, Trust.self, Revoke.self])

    static let defaultDirectory = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".trellis/keys").path

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key pair: DIR/NAME.key (private, mode 600) and DIR/NAME.pub; prints the public key.")
        @Argument(help: "The key's name (the publisher's, as a rule).") var name: String
        @Option(help: ArgumentHelp("Where keys are kept. Default: ~/.trellis/keys.", valueName: "dir")) var dir: String?

        func validate() throws {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw ValidationError("the key's name is letters, digits, '-' and '_', not '\(name)'")
            }
        }

        func run() throws {
            let directory = dir ?? Keys.defaultDirectory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let privatePath = "\(directory)/\(name).key"
            guard !FileManager.default.fileExists(atPath: privatePath) else {
                throw ValidationError("\(privatePath) exists; a key is never overwritten (remove it first, or choose another name)")
            }
            let (privateKey, publicKey) = PluginSignature.generate()
            guard FileManager.default.createFile(atPath: privatePath, contents: Data((privateKey + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(privatePath)")
            }
            try (publicKey + "\n").write(toFile: "\(directory)/\(name).pub", atomically: true, encoding: .utf8)
            print(publicKey)
            warn("private key: \(privatePath) (keep it secret); public key: \(directory)/\(name).pub\n"
                 + "a deployment trusts it with:\n  trust:\n    publishers:\n      \(name): \"\(publicKey)\"")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys in DIR with their public keys.")
        @Option(help: ArgumentHelp("Where keys are kept. Default: ~/.trellis/keys.", valueName: "dir")) var dir: String?

        func run() throws {
            let directory = dir ?? Keys.defaultDirectory
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".pub") }.sorted()
            guard !files.isEmpty else {
                print("no keys in \(directory); make one with `trellis keys generate NAME`")
                return
            }
            for file in files {
                let key = (try? String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                print("\(file.dropLast(4))  \(key)\(FileManager.default.fileExists(atPath: "\(directory)/\(file.dropLast(4)).key") ? "" : "  (public only)")")
            }
        }
    }
}

extension Keys {
    /// A public key given as `ed25519:BASE64` or as a `.pub` file.
    static func publicKey(_ text: String) throws -> String {
        if PluginSignature.publicKey(text) != nil { return text }
        guard FileManager.default.fileExists(atPath: text) else {
            throw ValidationError("'\(text)' is neither a public key (ed25519:BASE64) nor a .pub file")
        }
        let contents = ((try? String(contentsOfFile: text, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard PluginSignature.publicKey(contents) != nil else {
            throw ValidationError("\(text) does not hold a public key (ed25519:BASE64); give the .pub file `trellis keys generate` wrote")
        }
        return contents
    }

    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trust a publisher's key in the deployment config (trust.publishers).",
            discussion: """
                Once the deployment trusts any publisher, it loads only plugins signed by a trusted key \
                (or marked `allow_unsigned: true`). Only the lines of trust.publishers change; comments and \
                order elsewhere in the file stay.
                """)
        @OptionGroup var deployment: DeploymentOptions
        @Argument(help: "The publisher's name, as its manifests give it.") var name: String
        @Argument(help: ArgumentHelp("Its public key (ed25519:BASE64) or .pub file.", valueName: "key")) var key: String

        func run() throws {
            let publicKey = try Keys.publicKey(key)
            var editor = try deployment.openEditor()
            let file = deployment.editedFile
            let before = try deployment.configuration(text: editor.text, file: file)
            guard !before.trust.revoked.contains(publicKey) else {
                throw CLIError("that key is revoked in \(file) (trust.revoked); a revoked key is not trusted again here — "
                               + "ask the publisher for its new key")
            }
            if before.trust.publishers[name] == publicKey {
                print("\(name) is already trusted with that key in \(file)")
                return
            }
            let replaced = before.trust.publishers[name]
            try editor.change(["trust", "publishers", name], to: .string(publicKey))
            _ = try deployment.configuration(text: editor.text, file: file)
            try editor.save()
            print("\(file) now trusts \(name) (\(publicKey))" + (replaced.map { "; its previous key \($0) is no longer trusted" } ?? ""))
            if before.trust.publishers.isEmpty {
                print("this deployment now loads only signed plugins; mark a plugin under development with `allow_unsigned: true`")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key in the deployment config (trust.revoked): no plugin it signed loads here again.",
            discussion: """
                Give the key, its .pub file, or the name of a trusted publisher (its key is revoked). The host \
                refuses every plugin signed by a revoked key, before opening its library, with the code \
                revoked_key. Installed plugins the key signed are listed so they can be replaced.
                """)
        @OptionGroup var deployment: DeploymentOptions
        @Argument(help: ArgumentHelp("A key (ed25519:BASE64), a .pub file, or a trusted publisher's name.", valueName: "key-or-name"))
        var target: String

        func run() throws {
            var editor = try deployment.openEditor()
            let file = deployment.editedFile
            let before = try deployment.configuration(text: editor.text, file: file)
            let publicKey = try before.trust.publishers[target] ?? Keys.publicKey(target)
            guard !before.trust.revoked.contains(publicKey) else {
                print("\(publicKey) is already revoked in \(file)")
                return
            }
            let revoked = ((try? editor.value())?["trust"]?["revoked"]?.arrayValue ?? []) + [.string(publicKey)]
            try editor.change(["trust", "revoked"], to: .array(revoked))
            let after = try deployment.configuration(text: editor.text, file: file)
            try editor.save()
            print("revoked \(publicKey) in \(file)")
            let affected = PluginRegistry(directories: after.registryPaths).manifests.values.joined()
                .filter { $0.publisher?.key == publicKey || after.trust.publishers[$0.publisher?.name ?? ""] == publicKey }
            for manifest in affected.sorted(by: { $0.id < $1.id }) {
                print("  \(manifest.id) \(manifest.version) is signed by it and will be refused: install a version signed with another key")
            }
        }
    }
}

extension Plugins {
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign stamped manifests as their publisher, in place.",
            discussion: """
                Each manifest must record its library's sha256 (`trellis registry stamp` writes it): the signature \
                covers the manifest and so the library. A deployment that trusts the publisher's key loads the \
                plugin; one that does not, or that has revoked the key, refuses it before opening the library.
                """)
        @Argument(help: ArgumentHelp("Manifest files (registry/<id>/<version>.json).", valueName: "manifest")) var manifests: [String]
        @Option(help: ArgumentHelp("The private key file (from `trellis keys generate`).", valueName: "file")) var key: String
        @Option(help: "The publisher's name, as deployments list it under trust.publishers.") var publisher: String

        func run() throws {
            let privateKey: PluginSignature.PrivateKey
            do {
                privateKey = try PluginSignature.privateKey(try String(contentsOfFile: key, encoding: .utf8))
            } catch let error as PluginSignature.SignatureError {
                throw ValidationError("\(key): \(error)")
            } catch {
                throw ValidationError("\(key) cannot be read: \(error.localizedDescription)")
            }
            for path in manifests {
                let manifest: PluginManifest
                do {
                    manifest = try PluginManifest.load(path: path)
                } catch {
                    throw ValidationError(error.description)
                }
                let signed: PluginManifest
                do {
                    signed = try PluginSignature.sign(manifest, key: privateKey, publisher: publisher)
                } catch {
                    throw ValidationError("\(path): \(error)")
                }
                try PluginRegistry.write(signed, to: path)
                print("\(manifest.id) \(manifest.version) signed by \(publisher) → \(path)")
            }
        }
    }
}
