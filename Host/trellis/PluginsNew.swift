import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

extension Plugins {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a ready plugin package: source, manifest, README and a check script.",
            discussion: """
                Swift: a SwiftPM package on the Trellis SDK package alone. C: the source, a Makefile and a copy of the \
                ABI headers. Either builds as written and passes `trellis plugins check`: run its check.sh.
                """)

        @Argument(help: "channel, provider, recovery or analyzer.") var kind: String
        @Argument(help: ArgumentHelp("The plugin id: <kind>.<name> (channel.acme-chat).", valueName: "id")) var id: String
        @Option(help: "swift or c.") var lang = "swift"
        @Option(help: ArgumentHelp("Where to write it. Default: a folder named for the id.", valueName: "dir")) var dir: String?
        @Option(help: ArgumentHelp("The Trellis SDK folder (SDK/ of the Trellis repository). Default: found above this binary.",
                                   valueName: "dir"))
        var sdk: String?

        func validate() throws {
            guard ["channel", "provider", "recovery", "analyzer"].contains(kind) else {
                throw ValidationError("the kind is channel, provider, recovery or analyzer, not '\(kind)'")
            }
            guard isValidPluginID(id), id.hasPrefix(kind + "."), id.split(separator: ".").count == 2 else {
                throw ValidationError("the id is \(kind).<name>: lower-case letters, digits, '-' and '_' after the dot (e.g. \(kind).acme)")
            }
            guard lang == "swift" || lang == "c" else { throw ValidationError("--lang is swift or c, not '\(lang)'") }
        }

        func run() throws {
            let sdk = try sdkDirectory()
            let directory = URL(fileURLWithPath: dir ?? String(id.split(separator: ".")[1])).standardizedFileURL.path
            if let existing = try? FileManager.default.contentsOfDirectory(atPath: directory), !existing.isEmpty {
                throw ValidationError("\(directory) exists and is not empty; choose another --dir")
            }
            let name = Self.typeName(id)
            let summary = "A \(kind) plugin (written by trellis plugins new; say here what it does)."
            func fill(_ text: String) -> String {
                text.replacingOccurrences(of: "@SDKPATH@", with: sdk).replacingOccurrences(of: "@SUMMARY@", with: summary)
                    .replacingOccurrences(of: "@NAME@", with: name).replacingOccurrences(of: "@ID@", with: id)
            }
            var files: [(String, String)] = [
                ("registry/\(id)/0.1.0.json", Self.manifest(kind: kind, id: id, name: name, summary: summary, lang: lang)),
                ("README.md", Self.readme(kind: kind, id: id, name: name, lang: lang)),
            ]
            let library: String
            if lang == "swift" {
                files += [("Package.swift", fill(SwiftTemplates.package)), ("exports.map", SwiftTemplates.exports),
                          ("Sources/\(name)/\(name).swift", fill(SwiftTemplates.source(kind: kind)))]
                library = ".build/debug"
            } else {
                files += [("\(name).c", fill(CTemplates.common + CTemplates.body(kind: kind) + CTemplates.descriptor)),
                          ("Makefile", fill(CTemplates.makefile))]
                for header in ["trellis_plugin.h", "trellis_types.h", "trellis_services.h", "trellis_interfaces.h"] {
                    files.append(("include/\(header)", try String(contentsOfFile: "\(sdk)/CTrellisABI/include/\(header)", encoding: .utf8)))
                }
                library = "."
            }
            files.append(("check.sh", """
                #!/usr/bin/env bash
                # Builds the plugin, stamps its manifest with the library's sha256 and runs
                # Trellis's conformance suite on it. TRELLIS names the trellis binary.
                set -euo pipefail
                cd "$(dirname "$0")"
                TRELLIS="${TRELLIS:-trellis}"
                \(lang == "swift" ? "swift build" : "make")
                "$TRELLIS" registry stamp --source registry --libraries \(library) --output build/registry
                "$TRELLIS" plugins check \(library)/lib\(name).so --manifest build/registry/\(id)/0.1.0.json

                """))
            for (path, text) in files {
                let file = URL(fileURLWithPath: directory).appendingPathComponent(path)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: file, atomically: true, encoding: .utf8)
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(directory)/check.sh")
            print("wrote \(id) (\(lang)) to \(directory):")
            for (path, _) in files.sorted(by: { $0.0 < $1.0 }) { print("  \(path)") }
            print("next: cd \(directory) && TRELLIS=\(DeploymentOptions.binaryPath) ./check.sh")
        }

        /// `channel.acme-chat` → `ChannelAcmeChat` (a module name no other plugin has).
        static func typeName(_ id: String) -> String {
            id.split(whereSeparator: { $0 == "." || $0 == "-" || $0 == "_" }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }

        func sdkDirectory() throws -> String {
            if let sdk {
                guard FileManager.default.fileExists(atPath: "\(sdk)/CTrellisABI/include/trellis_plugin.h") else {
                    throw ValidationError("\(sdk) is not the Trellis SDK folder (no CTrellisABI/include/trellis_plugin.h in it)")
                }
                return URL(fileURLWithPath: sdk).standardizedFileURL.path
            }
            var url = URL(fileURLWithPath: DeploymentOptions.binaryDirectory)
            while url.path != "/" {
                if FileManager.default.fileExists(atPath: url.appendingPathComponent("SDK/CTrellisABI/include/trellis_plugin.h").path) {
                    return url.appendingPathComponent("SDK").path
                }
                url.deleteLastPathComponent()
            }
            throw ValidationError("the Trellis SDK folder was not found above \(DeploymentOptions.binaryDirectory); pass --sdk")
        }

        static func manifest(kind: String, id: String, name: String, summary: String, lang: String) -> String {
            let interface = "trellis.\(kind)/1"
            let input: JSONValue? = switch kind {
            case "channel": ["type": "object", "additionalProperties": false, "properties": ["text": ["type": "string"]]]
            case "provider": ["type": "object", "required": ["messages"], "properties": ["messages": ["type": "array", "minItems": 1]]]
            case "recovery": ["type": "object", "additionalProperties": false,
                              "properties": ["max_attempts": ["type": "integer", "minimum": 1]]]
            default: nil
            }
            var manifest: [String: JSONValue] = [
                "id": .string(id), "kind": .string(kind), "version": "0.1.0", "description": .string(summary),
                "abi": ["major": .number(Double(ABIVersion.host.major)), "minor": .number(Double(ABIVersion.host.minor))],
                "interfaces": .array(([interface] + (lang == "swift" ? ["trellis.health/1"] : [])).map(JSONValue.string)),
                "library": ["file": .string("lib\(name).so")],
                "config_schema": ["type": "object", "additionalProperties": false, "properties": [:]],
                "permissions": ["egress": [], "secrets": []],
            ]
            if let input { manifest["input_schema"] = input }
            return JSONValue.object(manifest).jsonString(pretty: true) + "\n"
        }

        static func readme(kind: String, id: String, name: String, lang: String) -> String {
            """
            # \(id)

            A Trellis \(kind) plugin in \(lang == "swift" ? "Swift, on the Trellis SDK package" : "C, on the ABI headers in include/").

            - `\(lang == "swift" ? "Sources/\(name)/\(name).swift" : "\(name).c")`: the plugin
            - `registry/\(id)/0.1.0.json`: its manifest (id, ABI, interfaces, config schema, permissions); keep it
              in step with the code: the host refuses a library its manifest does not describe
            - `check.sh`: builds it, stamps the manifest with the library's sha256 and runs `trellis plugins check`

            Try it in a deployment: stamp the manifest into a registry the deployment reads, add `\(id):` under
            `plugins:`, and \(kind == "analyzer" ? "call it with `trellis plugins call \(id) --input '{\"text\": \"some text\"}'`"
                : kind == "recovery" ? "name it in a step's `recovery:`" : "use it in a step: `uses: \(id)`").
            Publish it as a signed package: `trellis plugins pack \(lang == "swift" ? ".build/release" : ".")/lib\(name).so \
            registry/\(id)/0.1.0.json --key ~/.trellis/keys/NAME.key --output dist`; admins install it with
            `trellis plugins install \(id) --from dist` (docs/publishing.md). Change the version in the code and the
            manifest together: packing refuses a manifest whose version is not the library's.

            """
        }
    }
}
