import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost

extension Plugins {
    struct Call: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a loaded plugin once and print what it returns.",
            discussion: """
                The input is JSON, and what it means depends on the plugin's kind:
                  channel   the message to send                  → the delivery receipt
                  provider  the completion request               → the response
                  analyzer  {"text": "..."}                      → the tokens
                  recovery  {"error_class", "attempt", ...}      → the decision
                Examples:
                  trellis plugins call channel.stdout --input '{"text": "hi"}'
                  trellis plugins call provider.offline --input '{"model": "", "messages": [{"role": "user", "content": "hi"}]}'
                """)

        @OptionGroup var deployment: DeploymentOptions

        @Argument(help: ArgumentHelp("The plugin id.", valueName: "id"))
        var id: String

        func validate() throws {
            guard PluginInstanceName.isValid(id) else {
                throw ValidationError("'\(id)' is not a plugin id: write kind.name in lower-case letters, digits, '-' and '_' (e.g. channel.stdout), "
                                      + "or kind.name@instance")
            }
        }

        @Option(help: ArgumentHelp("The input, as JSON.", valueName: "json"))
        var input = "{}"

        @Option(help: ArgumentHelp("The idempotency key the call carries.", valueName: "key"))
        var idempotencyKey = ""

        @Option(name: .customLong("plugin"), help: ArgumentHelp(
            "Also load this library without a manifest (a plugin under development); its settings under plugins.<id> apply.",
            valueName: "path"))
        var extraLibraries: [String] = []

        func run() throws {
            let logger = deployment.makeLogger()
            let value: JSONValue
            do {
                value = try JSONValue(json: Data(input.utf8))
            } catch {
                throw ValidationError("--input is not valid JSON: \(error)")
            }
            let manager = PluginManager(configuration: try deployment.load(), logger: logger)
            manager.loadAll(extraLibraries: extraLibraries)
            guard let plugin = manager.instance(id) else {
                let reason = manager.status(id)?.reason
                    ?? "no plugin '\(id)' in the registry" + (closest(to: id, in: manager.registry.ids).map { "; did you mean '\($0)'?" } ?? "")
                throw ValidationError("\(id) is not loaded: \(reason)")
            }
            let context = PluginCallContext(idempotencyKey: idempotencyKey, runID: "cli", stepID: "call")
            let output: JSONValue
            do {
                switch plugin.info.kind {
                case .channel:
                    output = try plugin.send(value, context: context)
                case .provider:
                    output = try plugin.complete(value, context: context)
                case .analyzer:
                    guard let text = value["text"]?.stringValue else { throw ValidationError("give {\"text\": \"...\"}") }
                    output = .array(try plugin.tokens(of: text).map {
                        ["term": .string($0.term), "position": .number(Double($0.position)),
                         "start": .number(Double($0.bytes.lowerBound)), "end": .number(Double($0.bytes.upperBound))]
                    })
                case .recovery:
                    output = try recoveryCall(plugin, value, context: context)
                }
            } catch let error as PluginCallError {
                warn("error: \(error)")
                throw ExitCode(2)
            }
            print(Redactor.shared.redact(output).jsonString(pretty: true))
        }

        private func recoveryCall(_ plugin: PluginInstance, _ value: JSONValue,
                                  context: PluginCallContext) throws -> JSONValue {
            guard let name = value["error_class"]?.stringValue, let errorClass = ErrorClass(rawValue: name) else {
                throw ValidationError("give {\"error_class\": one of \(ErrorClass.allCases.map(\.rawValue).joined(separator: ", ")), \"attempt\": N}")
            }
            let failure = RecoveryFailure(
                errorClass: errorClass, retryAfterMilliseconds: UInt64(value["retry_after_ms"]?.doubleValue ?? 0),
                message: value["message"]?.stringValue ?? "", attempt: UInt32(value["attempt"]?.doubleValue ?? 1),
                elapsedMilliseconds: UInt64(value["elapsed_ms"]?.doubleValue ?? 0), key: value["key"]?.stringValue ?? "",
                policy: value["policy"] ?? [:])
            switch try plugin.decide(failure, context: context) {
            case .fail: return ["action": "fail"]
            case .pass: return ["action": "pass"]
            case .useCached(let maxAge):
                return ["action": "use_cached", "max_age_ms": maxAge.map { .number(Double($0)) } ?? .null]
            case .retry(let delay): return ["action": "retry", "delay_ms": .number(Double(delay))]
            case .fallback(let detail): return ["action": "fallback", "detail": detail]
            case .degrade(let output, let quality): return ["action": "degrade", "output": output, "quality": .number(quality)]
            }
        }
    }
}
