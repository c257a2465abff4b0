import ArgumentParser
import Foundation
import Logging
import TrellisCore
import TrellisPluginHost

/// Options shared by the commands that load plugins.
struct DeploymentOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The deployment config file.", discussion: "Default: $TRELLIS_CONFIG, else ./trellis.yaml if it exists.",
        valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp(
        "Log level on standard error: trace, debug, info, warning, error.",
        discussion: "Default: info for `trellis serve`, warning otherwise.", valueName: "level"))
    var logLevel: Logger.Level?

    /// The directory of the running trellis binary: where `swift build` puts
    /// the bundled plugin libraries, and the default plugin path.
    static var binaryDirectory: String {
        URL(fileURLWithPath: binaryPath).deletingLastPathComponent().path
    }

    /// The running trellis binary, read from /proc/self/exe: `argv[0]` is
    /// only a name when the binary was found through the PATH.
    static let binaryPath: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
    }()

    var configFile: String? {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRELLIS_CONFIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return FileManager.default.fileExists(atPath: "trellis.yaml") ? "trellis.yaml" : nil
    }

    @Option(help: ArgumentHelp("Log lines as text or json (`trellis serve` defaults to json).", valueName: "format"))
    var logFormat: LogFormat?

    enum LogFormat: String, ExpressibleByArgument {
        case text, json
    }

    func makeLogger(defaultFormat: LogFormat = .text) -> Logger {
        let level = logLevel ?? (defaultFormat == .json ? .info : .warning)
        let format = logFormat ?? defaultFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return RedactingLogHandler(base: handler)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return RedactingLogHandler(base: handler)
            }
        }
        return Logger(label: "trellis")
    }

    /// Reads the deployment config, or the defaults when there is no file.
    func load() throws -> DeploymentConfiguration {
        let defaults = [Self.binaryDirectory]
        guard let file = configFile else {
            return DeploymentConfiguration(pluginPaths: defaults,
                                           registryPaths: [URL(fileURLWithPath: defaults[0]).appendingPathComponent("registry").path])
        }
        do {
            return try DeploymentConfiguration.load(file: file, defaultPluginPaths: defaults)
        } catch {
            // Not a usage mistake: say what is wrong with the file, without the usage text.
            throw CLIError(error.description)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Writes JSON for `--json` output: sorted keys, pretty.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A failure that is not a mistake in the command line: its message is
/// printed as "Error: …" without the usage text, and the exit status is 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A command failed in a way already explained on the output.
struct Failed: Error, CustomStringConvertible {
    var description: String
}

/// Standard error, for messages that are not the command's output.
func warn(_ text: String) {
    FileHandle.standardError.write(Data((Redactor.shared.redact(text) + "\n").utf8))
}

extension DeploymentOptions {
    /// The deployment config file a command edits: --config (made when it
    /// does not exist), $TRELLIS_CONFIG, else ./trellis.yaml.
    var editedFile: String { configFile ?? "trellis.yaml" }

    /// The deployment a config text describes, or why it does not.
    func configuration(text: String, file: String) throws -> DeploymentConfiguration {
        do {
            return try DeploymentConfiguration.parse(text: text, file: file, defaultPluginPaths: [Self.binaryDirectory])
        } catch {
            throw CLIError(error.description)
        }
    }

    /// Reads the config file for editing, refusing one that is not valid
    /// now (an edit must not be the first to notice).
    func openEditor() throws -> DeploymentConfigEditor {
        let editor: DeploymentConfigEditor
        do {
            editor = try DeploymentConfigEditor.open(file: editedFile)
        } catch {
            throw CLIError(error.description)
        }
        _ = try configuration(text: editor.text, file: editedFile)
        return editor
    }
}

extension DeploymentConfigEditor {
    /// `set`, with its refusal as a command's error.
    mutating func change(_ path: [String], to value: JSONValue) throws {
        do {
            try set(path, to: value)
        } catch {
            throw CLIError(error.description)
        }
    }

    func save() throws {
        do {
            try write()
        } catch {
            throw CLIError(error.description)
        }
    }
}
