import ArgumentParser
import Foundation
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
        subcommands: [Run.self, Serve.self, Trigger.self, Validate.self, Runs.self, Notify.self, Notifications.self, Plugins.self, Registry.self, Demo.self, Bench.self, Version.self]
    )

    static func main() async {
        // A reader that goes away (`trellis run … | head -1`) makes writes
        // fail with EPIPE instead of killing the process mid-run.
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }
}
