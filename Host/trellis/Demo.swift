import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the deployment's plugins and push a message, a text, a prompt and a failure through them.",
        discussion: """
            Uses channel.stdout, analyzer.whitespace, provider.offline and recovery.fixed-delay: \
            each must be enabled in the deployment config (the checkout's trellis.yaml enables all four).
            """)

    @OptionGroup var deployment: DeploymentOptions

    func run() throws {
        let logger = deployment.makeLogger()
        let manager = PluginManager(configuration: try deployment.load(), logger: logger)
        let statuses = manager.loadAll()
        say("Plugins (\(manager.configuration.file ?? "default deployment")):")
        for status in statuses {
            say("  \(status.state == .ok ? "✓" : status.state == .disabled ? "-" : "✗") \(status.id) \(status.version ?? "")"
                  + (status.state == .ok ? "" : "  — \(status.reason ?? "")"))
        }
        func plugin(_ id: String) throws -> PluginInstance {
            guard let instance = manager.instance(id) else {
                throw Failed(description: "\(id) is not loaded: \(manager.status(id)?.reason ?? "enable it in the deployment config")")
            }
            return instance
        }
        let runID = "demo-" + UUID().uuidString.prefix(8).lowercased()

        say("\n1. channel.stdout: sending a message")
        let receipt = try plugin("channel.stdout").send(
            ["title": "Trellis demo", "text": "Hello from a plugin loaded with dlopen.", "severity": "info"],
            context: PluginCallContext(idempotencyKey: "\(runID)/notify/1", runID: runID, stepID: "notify"))
        say("   receipt: \(receipt.jsonString())")

        say("\n2. analyzer.whitespace: tokenizing \"The Quick  brown FOX jumps\"")
        let tokens = try plugin("analyzer.whitespace").tokens(of: "The Quick  brown FOX jumps")
        say("   " + tokens.map { "\($0.term)@\($0.position)[\($0.bytes.lowerBound)..<\($0.bytes.upperBound)]" }
            .joined(separator: " "))

        say("\n3. provider.offline: asking \"What does Trellis run?\" (streamed)")
        var streamed = ""
        let answer = try plugin("provider.offline").complete(
            ["model": "", "messages": [["role": "user", "content": "What does Trellis run?"]]],
            context: PluginCallContext(runID: runID, stepID: "ask")) { chunk in
                streamed += chunk
                return true
            }
        say("   streamed: \(streamed)")
        say("   response: \(answer.jsonString())")

        say("\n4. recovery.fixed-delay: deciding after failures")
        let recovery = try plugin("recovery.fixed-delay")
        let failures: [(String, RecoveryFailure)] = [
            ("retryable, attempt 1", RecoveryFailure(errorClass: .retryable, message: "connection reset", attempt: 1)),
            ("rate_limited, retry-after 5 s", RecoveryFailure(errorClass: .rateLimited, retryAfterMilliseconds: 5000,
                                                                message: "429", attempt: 1)),
            ("retryable, attempt 3 of 3", RecoveryFailure(errorClass: .retryable, message: "timeout", attempt: 3)),
            ("permanent", RecoveryFailure(errorClass: .permanent, message: "404", attempt: 1)),
        ]
        for (label, failure) in failures {
            say("   \(label) → \(try recovery.decide(failure))")
        }

        let failed = statuses.filter { $0.state == .error && $0.required }
        if !failed.isEmpty {
            throw Failed(description: "required plugins failed to load: \(failed.map(\.id).joined(separator: ", "))")
        }
        say("\nDemo complete: 4 plugin kinds called through ABI \(ABIVersion.host).")
    }
}

/// Prints and flushes: plugins write to the same standard output, and the
/// lines must come out in order.
private func say(_ text: String) {
    print(text)
    fflush(nil)
}
