import ArgumentParser
import TrellisPluginHost

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the Trellis version and the plugin ABI it speaks.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        if json {
            try printJSON(["version": TrellisVersion.current, "abi": ABIVersion.host.description])
        } else {
            print("trellis \(TrellisVersion.current)")
            print("plugin ABI \(ABIVersion.host) (loads plugins built for ABI \(ABIVersion.host.major).0 through \(ABIVersion.host.major).\(ABIVersion.host.minor))")
        }
    }
}
