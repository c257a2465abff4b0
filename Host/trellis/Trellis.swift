import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

@main
struct Trellis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trellis",
        abstract: "Run workflows whose steps use plugins: channels, model providers, recovery strategies, analyzers.",
        discussion: """
            The deployment config (YAML) says which plugins are enabled and how they are configured. \
            It is found at --config, else $TRELLIS_CONFIG, else ./trellis.yaml. See docs/admin.md.
            """,
        version: "trellis \(TrellisVersion.current) (plugin ABI \(ABIVersion.host))",
        subcommands: [Run.self, Serve.self, Trigger.self, Validate.self, Runs.self, Notify.self, Notifications.self, AI.self, Search.self, Plugins.self, Keys.self, Registry.self, Demo.self, Bench.self, Version.self]
    )

    static func main() async {
        // A reader that goes away (`trellis run … | head -1`) makes writes
        // fail with EPIPE instead of killing the process mid-run.
        signal(SIGPIPE, SIG_IGN)
        var arguments = Array(CommandLine.arguments.dropFirst())
        // A mistyped command says which one was meant, not "unexpected arguments".
        let commands = configuration.subcommands.map { $0._commandName } + ["help"]
        if let first = arguments.first, !first.hasPrefix("-"), !commands.contains(first) {
            // Swapped letters (`rnu`) as well as the nearest spelling.
            let anagram = commands.first { $0.count == first.count && $0.sorted() == first.sorted() }
            let hint = (anagram ?? closest(to: first, in: commands)).map { " (did you mean '\($0)'?)" } ?? ""
            FileHandle.standardError.write(Data("Error: unknown command '\(first)'\(hint); `trellis --help` lists them\n".utf8))
            Foundation.exit(64)
        }
        // `--limit -1` reaches the command's own check instead of reading as an option.
        var joined: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--"), !argument.contains("="), index + 1 < arguments.count,
               arguments[index + 1].count > 1, arguments[index + 1].hasPrefix("-"), Double(arguments[index + 1]) != nil {
                joined.append(argument + "=" + arguments[index + 1])
                index += 2
            } else {
                joined.append(argument)
                index += 1
            }
        }
        arguments = joined
        await main(arguments)
    }
}
