import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and inspect plugins.",
        subcommands: [List.self, Inspect.self, Call.self, Check.self, New.self, Sign.self, Pack.self,
                      Install.self, Upgrade.self, Enable.self, Disable.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the deployment's plugins and show each one's status.",
            discussion: """
                Every plugin the registry or the deployment config names is listed as ok, disabled, or \
                error with the reason. Exits with status 1 when a required plugin failed to load.
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Option(name: .customLong("plugin"), help: ArgumentHelp(
            "Also load this library, without a manifest (repeatable; for plugins under development).",
            valueName: "path"))
        var extraLibraries: [String] = []

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let logger = deployment.makeLogger()
            let manager = PluginManager(configuration: try deployment.load(), logger: logger)
            let statuses = manager.loadAll(extraLibraries: extraLibraries)
            if json {
                try printJSON(statuses)
            } else {
                printTable(statuses)
            }
            let failed = statuses.filter { $0.state == .error && $0.required }
            if !failed.isEmpty {
                warn("\(failed.count) required plugin\(failed.count == 1 ? "" : "s") failed to load: "
                     + failed.map(\.id).joined(separator: ", "))
                throw ExitCode(1)
            }
        }

        private func printTable(_ statuses: [PluginStatus]) {
            guard !statuses.isEmpty else {
                print("No plugins: the registry is empty and the deployment config enables none.")
                return
            }
            let rows = statuses.map { status in
                [status.id, status.kind?.rawValue ?? "-", status.version ?? "-", status.state.rawValue,
                 status.state == .ok ? (status.path ?? "") + (status.unsignedAllowed ? "  (UNSIGNED: allow_unsigned)" : "")
                     : (status.reason ?? "")]
            }
            printColumns(header: ["ID", "KIND", "VERSION", "STATUS", "PATH / REASON"], rows: rows)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a plugin's descriptor, interfaces and config schema.",
            discussion: """
                Give a plugin id to inspect it through its manifest (the library is opened only if \
                its sha256 matches), or a path to a library to inspect it directly.
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Argument(help: ArgumentHelp("A plugin id (channel.stdout) or a path to a library.", valueName: "id-or-path"))
        var target: String

        func validate() throws {
            // A path has a slash or ends in .so; anything else must be an id.
            guard target.contains("/") || target.hasSuffix(".so") || isValidPluginID(target) else {
                throw ValidationError("'\(target)' is neither a plugin id (kind.name in lower-case letters, digits, '-' and '_') "
                                      + "nor a path to a library (give ./\(target) for a file here)")
            }
        }

        @Flag(help: "Print JSON.")
        var json = false

        struct Report: Encodable {
            var descriptor: PluginInfo?
            var path: String?
            var manifest: PluginManifest?
            var error: String?
        }

        func run() throws {
            let logger = deployment.makeLogger()
            var report = Report()
            if target.contains("/") || target.hasSuffix(".so") {
                do {
                    let library = try PluginLibrary.open(path: target)
                    report.descriptor = library.info
                    report.path = library.path
                } catch {
                    report.error = error.description
                }
            } else {
                let manager = PluginManager(configuration: try deployment.load(), logger: logger)
                guard let manifest = manager.registry.manifest(for: target) else {
                    let known = manager.registry.ids
                    var message = "no plugin '\(target)' in the registry (\(manager.configuration.registryPaths.joined(separator: ", ")))"
                    if let suggestion = closest(to: target, in: known) { message += "; did you mean '\(suggestion)'?" }
                    throw ValidationError(message)
                }
                report.manifest = manifest
                do {
                    let library = try manager.openVerified(manifest: manifest,
                                                           explicitPath: manager.configuration.plugins[target]?.path,
                                                           allowUnsigned: manager.configuration.plugins[target]?.allowUnsigned ?? false)
                    report.descriptor = library.info
                    report.path = library.path
                } catch {
                    report.error = error.description
                }
            }
            if json { try printJSON(report) } else { printReport(report) }
            if report.error != nil { throw ExitCode(1) }
        }

        private func printReport(_ report: Report) {
            if let info = report.descriptor {
                print("""
                    \(info.id) \(info.version) (\(info.kind.rawValue))
                      \(info.summary)
                      library:     \(report.path ?? "-")
                      built for:   plugin ABI \(info.abi)
                      threading:   \(info.isSingleThreaded ? "single-threaded (the host serializes calls)" : "thread-safe")
                      interfaces:  \(info.interfaces.joined(separator: ", "))
                    """)
            }
            if let manifest = report.manifest {
                if report.descriptor == nil { print("\(manifest.id) \(manifest.version) (\(manifest.kind.rawValue))") }
                print("  sha256:      \(manifest.library.sha256 ?? "(not recorded)")")
                print("  egress:      \(manifest.permissions.egress.isEmpty ? "none" : manifest.permissions.egress.joined(separator: ", "))")
                print("  secrets:     \(manifest.permissions.secrets.isEmpty ? "none" : manifest.permissions.secrets.joined(separator: ", "))")
                print("  config schema:")
                for line in manifest.configSchema.jsonString(pretty: true).split(separator: "\n") { print("    \(line)") }
            }
            if let error = report.error { warn("error: \(error)") }
        }
    }
}

/// Prints left-aligned columns; the last column is not padded.
func printColumns(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = (0..<header.count).map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  "))
    }
}
