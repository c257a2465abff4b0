import ArgumentParser
import Foundation
import TrellisPluginHost

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make and list the Ed25519 keys publishers sign plugin manifests with.",
        discussion: """
            A deployment trusts a publisher by listing its public key under trust.publishers in the \
            deployment config; it then loads only plugins signed by a key it trusts (see docs/admin.md, "Trust").
            """,
        subcommands: [Generate.self, List.self])

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
