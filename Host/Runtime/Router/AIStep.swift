import Foundation
import TrellisCore
import TrellisPluginHost

/// A `uses: ai` step: its `with:` made into a routed request (`prompt` or
/// `messages`, `system`, the sampling parameters, tools), the answer checked
/// against its `schema` and repaired by asking again a bounded number of
/// times, or an ensemble of models asked at once and one answer picked.
struct AIStep: Sendable {
    let router: ModelRouter

    func run(_ with: JSONValue, context: PluginCallContext) -> StepOutcome {
        do throws(RouterError) {
            if let ensemble = with["ensemble"] {
                return .success(try Ensemble(router: router, config: ensemble).run(with, context: context))
            }
            return .success(try answer(with, model: with["model"]?.stringValue ?? "", context: context).output)
        } catch {
            return .failure(error.errorClass, message: error.message, retryAfterMilliseconds: error.retryAfterMilliseconds)
        }
    }

    /// One model's answer to the step, structured when the step gives a schema.
    func answer(_ with: JSONValue, model: String, context: PluginCallContext) throws(RouterError) -> RoutedAnswer {
        var body = try Self.body(with)
        let schema: JSONSchema?
        if let raw = with["schema"] {
            do {
                schema = try JSONSchema(raw)
            } catch {
                throw RouterError(.invalidRequest, "the step's schema is not usable: \(error)", errorClass: .config)
            }
            body["response_format"] = ["type": "json_schema", "name": "answer", "schema": raw]
        } else {
            schema = nil
        }
        let stream = with["stream"]?.boolValue == true
        var useCache = with["cache"]?.boolValue ?? true
        let repairs = with["repair_attempts"]?.intValue ?? 2
        var repaired = 0
        var spent: (cost: Double, input: Int, output: Int) = (0, 0, 0)
        while true {
            var answer = try router.complete(
                ModelRouter.Request(model: model, body: .object(body), useCache: useCache,
                                    runID: context.runID.isEmpty ? nil : context.runID,
                                    workflow: context.workflow.isEmpty ? nil : context.workflow),
                context: context, onStream: stream ? { _ in true } : nil)
            answer.cost += spent.cost
            answer.inputTokens += spent.input
            answer.outputTokens += spent.output
            guard let schema else { return answer }
            let problems: [String]
            switch Self.parseJSON(answer.text) {
            case .success(let value):
                let violations = schema.validate(value)
                if violations.isEmpty {
                    answer.json = value
                    return answer
                }
                problems = violations.map(\.description)
            case .failure(let message):
                problems = [message]
            }
            guard repaired < repairs else {
                throw RouterError(.invalidAnswer, "the answer does not match the step's schema"
                                  + (repaired > 0 ? " after \(repaired) repair\(repaired == 1 ? "" : "s")" : "") + ": "
                                  + problems.prefix(5).joined(separator: "; "), errorClass: .permanent, attempts: answer.attempts)
            }
            repaired += 1
            spent = (answer.cost, answer.inputTokens, answer.outputTokens)
            useCache = false
            var messages = body["messages"]?.arrayValue ?? []
            messages.append(["role": "assistant", "content": .string(answer.text)])
            messages.append(["role": "user", "content": .string(
                "That answer does not match the JSON Schema: " + problems.prefix(5).joined(separator: "; ")
                    + ". Answer again with only the corrected JSON value.")])
            body["messages"] = .array(messages)
        }
    }

    /// The provider request a step's `with:` asks for (without its model).
    static func body(_ with: JSONValue) throws(RouterError) -> [String: JSONValue] {
        var messages = with["messages"]?.arrayValue ?? []
        if let prompt = with["prompt"]?.stringValue { messages.append(["role": "user", "content": .string(prompt)]) }
        if let system = with["system"]?.stringValue { messages.insert(["role": "system", "content": .string(system)], at: 0) }
        guard !messages.isEmpty else {
            throw RouterError(.invalidRequest, "an ai step needs `prompt` or `messages`", errorClass: .config)
        }
        var body: [String: JSONValue] = ["messages": .array(messages)]
        for key in ["max_tokens", "temperature", "top_p", "stop", "tools", "tool_choice"] {
            if let value = with[key] { body[key] = value }
        }
        return body
    }

    enum Parsed { case success(JSONValue), failure(String) }

    /// An answer's JSON: the whole text, or inside a ``` fence when the model wrote one.
    static func parseJSON(_ text: String) -> Parsed {
        var candidate = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if candidate.hasPrefix("```"), let open = candidate.firstIndex(of: "\n"), let close = candidate.range(of: "```", options: .backwards),
           close.lowerBound > open {
            candidate = String(candidate[candidate.index(after: open)..<close.lowerBound])
        }
        do {
            return .success(try JSONValue(json: Array(candidate.utf8)))
        } catch {
            return .failure("it is not JSON (\(error.message) at byte \(error.offset))")
        }
    }
}
