import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

extension Plugins {
    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a plugin in the deployment config, after checking that it loads.",
            discussion: """
                Adds the plugin under `plugins:` (or sets its `enabled: true`), changing only those lines: \
                comments and order elsewhere in the file stay. Before the file is written the plugin is \
                loaded with the new config — manifest, signature, sha256, config schema, secrets, create — \
                and a plugin that would not load is not enabled. The file is replaced whole, never half-written.
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Argument(help: ArgumentHelp("The plugin id (channel.slack), or an instance name (provider.openai@azure-eu).", valueName: "id"))
        var id: String

        @Flag(help: "Write the change without loading the plugin first (for a secret only the service's environment has).")
        var noCheck = false

        func validate() throws {
            guard PluginInstanceName.isValid(id) else {
                throw ValidationError("'\(id)' is not a plugin id: write kind.name (channel.slack) or kind.name@instance")
            }
        }

        func run() throws {
            let logger = deployment.makeLogger()
            var editor = try deployment.openEditor()
            let file = deployment.editedFile
            let before = try deployment.configuration(text: editor.text, file: file)
            if let settings = before.plugins[id], settings.enabled {
                print("\(id) is already enabled in \(file)")
                return
            }
            if before.plugins[id] != nil {
                try editor.change(["plugins", id, "enabled"], to: .bool(true))
            } else {
                try editor.change(["plugins", id], to: .object([:]))
            }
            let after = try deployment.configuration(text: editor.text, file: file)
            if !noCheck {
                let status = PluginManager(configuration: after, logger: logger).load(only: [id]).first { $0.id == id }
                guard let status, status.state == .ok else {
                    throw CLIError("\(id) was not enabled: it does not load with this deployment: "
                                   + (status?.reason ?? "unknown plugin") + "\n\(file) was left unchanged.")
                }
            }
            try editor.save()
            print("enabled \(id) in \(file)")
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a plugin in the deployment config (`enabled: false`); its settings stay.",
            discussion: """
                Changes only the plugin's `enabled:` line (adding it when missing); comments, order and the \
                plugin's config stay, so `trellis plugins enable` brings it back as it was. A running \
                `trellis serve` keeps the plugin until it restarts.
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Argument(help: ArgumentHelp("The plugin id or instance name.", valueName: "id"))
        var id: String

        func run() throws {
            var editor = try deployment.openEditor()
            let file = deployment.editedFile
            let before = try deployment.configuration(text: editor.text, file: file)
            guard let settings = before.plugins[id] else {
                let known = before.plugins.keys.sorted()
                var message = "\(id) is not in \(file), so it is not loaded"
                if let suggestion = closest(to: id, in: known) { message += "; did you mean '\(suggestion)'?" }
                throw CLIError(message)
            }
            guard settings.enabled else {
                print("\(id) is already disabled in \(file)")
                return
            }
            try editor.change(["plugins", id, "enabled"], to: .bool(false))
            _ = try deployment.configuration(text: editor.text, file: file)
            try editor.save()
            print("disabled \(id) in \(file)")
        }
    }
}
