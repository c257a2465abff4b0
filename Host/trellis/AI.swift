import ArgumentParser
import Foundation
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore

struct AI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai",
        abstract: "Ask a model through the model router, and see its groups and usage.",
        discussion: "Model groups, the cache and budgets come from the deployment config's `models:` section (docs/providers.md).",
        subcommands: [Ask.self, Models.self, Usage.self])

    struct Ask: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stream a model's answer to the terminal; usage and cost follow on standard error.",
            discussion: """
                The model is a group's alias, a provider plugin (provider.offline), or a plugin and a model \
                (provider.openai/gpt-4o-mini). When a stream breaks and the router moves to another deployment, \
                the answer goes on as one stream; the summary names who wrote which part. Ctrl-C stops the answer.
                """)

        @OptionGroup var options: Runs.StoreOptions
        @Option(help: ArgumentHelp("A model group's alias, or a provider plugin.", valueName: "model")) var model: String = "default"
        @Argument(help: "The prompt.") var prompt: String
        @Option(help: "A system prompt.") var system: String?
        @Option(help: "The most tokens to answer with.") var maxTokens: Int?
        @Option(help: "Sampling temperature, 0 to 2.") var temperature: Double?
        @Flag(help: "Wait for the whole answer instead of streaming it.") var noStream = false
        @Flag(help: "Ask even when the cache has the answer.") var noCache = false
        @Flag(help: "Print the answer and its accounting as JSON (no streaming).") var json = false

        func validate() throws {
            if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
            if let temperature, !(0...2).contains(temperature) { throw ValidationError("--temperature must be from 0 to 2") }
            if prompt.isEmpty { throw ValidationError("the prompt is empty") }
        }

        func run() throws {
            let (setup, store) = try options.open()
            let router = try setup.modelRouter(store: store)
            if let plugin = RouterSettings.directProvider(model)?.plugin { _ = setup.plugins.load(only: [plugin]) }
            var body: [String: JSONValue] = ["messages": .array(
                (system.map { [["role": "system", "content": .string($0)]] } ?? []) + [["role": "user", "content": .string(prompt)]])]
            if let maxTokens { body["max_tokens"] = .number(Double(maxTokens)) }
            if let temperature { body["temperature"] = .number(temperature) }
            let cancellation = CancellationToken()
            let interrupt = InterruptWatch(cancelling: cancellation)
            defer { interrupt.stop() }
            let streaming = !json && !noStream
            let output = FileHandle.standardOutput
            let answer: RoutedAnswer
            do {
                answer = try router.complete(
                    ModelRouter.Request(model: model, body: .object(body), useCache: !noCache),
                    context: PluginCallContext(cancellation: cancellation),
                    onStream: streaming ? { event in
                        switch event {
                        case .text(let text, _):
                            return (try? output.write(contentsOf: Data(Redactor.shared.redact(text).utf8))) != nil
                        case .restart(let from, _):
                            warn("\n[\(from) broke off; the answer starts over]")
                            return true
                        }
                    } : nil)
            } catch {
                router.stop()
                warn("error: \(Redactor.shared.redact(error.message))")
                for attempt in error.attempts { warn("  \(Redactor.shared.redact(attempt.summary))") }
                throw ExitCode(1)
            }
            router.stop()   // the usage goes to the store before the command ends
            if json {
                print(Redactor.shared.redact(answer.output).jsonString(pretty: true))
                return
            }
            if !streaming { print(Redactor.shared.redact(answer.text), terminator: "") }
            print("")
            warn(Self.summary(answer))
        }

        static func summary(_ answer: RoutedAnswer) -> String {
            var line = "— \(answer.alias): \(answer.deployment)"
            if answer.parts.count > 1 {
                line = "— \(answer.alias): " + answer.parts.map { "\($0.deployment) (\($0.text.count) characters)" }.joined(separator: " then ")
            }
            line += answer.cacheHit ? " · from the cache, free"
                : " · \(answer.inputTokens) in / \(answer.outputTokens) out tokens · cost \(money(answer.cost))"
            line += " · \(formatDuration(answer.latencySeconds))"
            let failed = answer.attempts.filter { $0.errorClass != nil }
            if !failed.isEmpty { line += " · after \(failed.count) failed attempt\(failed.count == 1 ? "" : "s")" }
            return line
        }
    }

    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the model groups and their deployments, and which are cooling down.")
        @OptionGroup var options: Runs.StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (setup, store) = try options.open()
            let router = try setup.modelRouter(store: store)
            let statuses = router.statuses()
            if json {
                print(JSONValue.array(statuses.map { status in
                    var entry: [String: JSONValue] = [
                        "group": .string(status.group), "deployment": .string(status.deployment.name),
                        "plugin": .string(status.deployment.plugin), "model": .string(status.deployment.model),
                        "available": .bool(status.available),
                        "strategy": .string(router.settings.groups[status.group]?.strategy.rawValue ?? "ordered"),
                    ]
                    if let until = status.coolingUntil { entry["cooling_until"] = .number(until) }
                    if let reason = status.coolingReason { entry["cooling_reason"] = .string(reason) }
                    return .object(entry)
                }).jsonString(pretty: true))
                return
            }
            guard !statuses.isEmpty else {
                print("no model groups: define them under models.groups in the deployment config (docs/providers.md)")
                return
            }
            var group = ""
            for status in statuses {
                if status.group != group {
                    group = status.group
                    print("\(group)  (\(router.settings.groups[group]?.strategy.rawValue ?? "ordered"))")
                }
                let state = !status.available ? "not loaded"
                    : status.coolingUntil.map { until in
                        "cooling until \(Self.clock(until)) (\(status.coolingReason ?? ""))"
                    } ?? "ready"
                let price = status.deployment.inputPrice > 0 || status.deployment.outputPrice > 0
                    ? "  \(money(status.deployment.inputPrice))/\(money(status.deployment.outputPrice)) per M tokens" : ""
                print("  \(status.deployment.name)  \(state)\(price)")
            }
        }

        static func clock(_ time: Double) -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "HH:mm:ss"
            return formatter.string(from: Date(timeIntervalSince1970: time))
        }
    }

    struct Usage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokens and cost of routed requests, summed by alias, deployment, workflow, run, day or month.")
        @OptionGroup var options: Runs.StoreOptions
        @Option(help: "alias, deployment, workflow, run, day or month.") var by: String = "deployment"
        @Option(help: ArgumentHelp("Only requests within this long (e.g. 24h, 7d).", valueName: "duration")) var since: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard ModelUsage.Grouping(rawValue: by) != nil else {
                throw ValidationError("--by must be one of \(ModelUsage.Grouping.allCases.map(\.rawValue).joined(separator: ", ")), not '\(by)'")
            }
            if let since, JSONValue.string(since).durationSeconds == nil {
                throw ValidationError("--since '\(since)' is not a duration (e.g. 24h, 7d)")
            }
        }

        func run() throws {
            let (_, store) = try options.open()
            let start = since.flatMap { JSONValue.string($0).durationSeconds }.map { Date().timeIntervalSince1970 - $0 } ?? 0
            let totals = try store.usageTotals(by: ModelUsage.Grouping(rawValue: by)!, since: start)
            if json {
                print(JSONValue.array(totals.map { total in
                    ["key": .string(total.key), "requests": .number(Double(total.requests)),
                     "input_tokens": .number(Double(total.inputTokens)), "output_tokens": .number(Double(total.outputTokens)),
                     "cost": .number(total.cost), "cache_hits": .number(Double(total.cacheHits))]
                }).jsonString(pretty: true))
                return
            }
            guard !totals.isEmpty else {
                print("no routed requests" + (since.map { " in the last \($0)" } ?? "") + " yet")
                return
            }
            let width = max(by.count, totals.map(\.key.count).max() ?? 0)
            print(by.padding(toLength: width, withPad: " ", startingAt: 0) + "  requests  input  output  cost  cache hits")
            for total in totals {
                print(total.key.padding(toLength: width, withPad: " ", startingAt: 0)
                      + "  \(total.requests)  \(total.inputTokens)  \(total.outputTokens)  \(money(total.cost))  \(total.cacheHits)")
            }
        }
    }
}

func money(_ value: Double) -> String { ModelRouter.money(value) }

/// Cancels a token when SIGINT arrives (Ctrl-C stops an answer, not the terminal).
final class InterruptWatch: Sendable {
    private let done = Atomic<Bool>(false)

    init(cancelling token: CancellationToken) {
        interruptFlag.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in interruptFlag.store(true, ordering: .relaxed) }
        let thread = Thread { [self] in
            while !done.load(ordering: .relaxed) {
                if interruptFlag.load(ordering: .relaxed) {
                    token.cancel()
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        thread.start()
    }

    func stop() {
        done.store(true, ordering: .relaxed)
        signal(SIGINT, SIG_DFL)
    }
}

private let interruptFlag = Atomic<Bool>(false)
