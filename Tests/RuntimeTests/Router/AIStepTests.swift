import Foundation
import Testing
import TrellisCore
import TrellisPluginHost
@testable import TrellisRuntime

/// `uses: ai` steps: structured output with repair, ensembles, and a
/// workflow run through the engine.
@Suite struct AIStepTests {
    static let groups = """
        models:
          groups:
            fixer: { deployments: [{ plugin: provider.openai, model: json-fixer }] }
            stubborn: { deployments: [{ plugin: provider.openai, model: json-wrong }] }
            judge: { deployments: [{ plugin: provider.openai, model: say-2 }] }
        """

    func run(_ harness: RouterHarness, _ with: JSONValue) -> StepOutcome {
        AIStep(router: harness.router).run(with, context: PluginCallContext(runID: "r-1", stepID: "ask"))
    }

    @Test func anAnswerThatMissesTheSchemaIsRepairedByAskingAgain() throws {
        let harness = try RouterHarness(Self.groups)
        let schema: JSONValue = ["type": "object", "required": ["n"], "properties": ["n": ["type": "integer"]]]
        guard case .success(let output) = run(harness, ["model": "fixer", "prompt": "How many?", "schema": schema]) else {
            Issue.record("the step failed")
            return
        }
        #expect(output["json"] == ["n": 3])
        #expect(harness.models.hits("json-fixer") == 2)
        let repair = try #require(harness.models.log.seen.withLock { $0.last })
        let messages = repair["messages"]?.arrayValue ?? []
        #expect(messages.count == 3, "the question, the bad answer, and what was wrong")
        #expect(messages[1] == ["role": "assistant", "content": "three, I think"])
        #expect(repair["response_format"]?["json_schema"]?["schema"] == schema, "the schema goes to the provider too")
    }

    @Test func anAnswerThatStaysWrongFailsWithTheValidationErrors() throws {
        let harness = try RouterHarness(Self.groups)
        let outcome = run(harness, ["model": "stubborn", "prompt": "How many?", "repair_attempts": 1,
                                    "schema": ["type": "object", "properties": ["n": ["type": "integer"]]]])
        guard case .failure(let errorClass, let message, _) = outcome else {
            Issue.record("the step succeeded: \(outcome)")
            return
        }
        #expect(errorClass == .permanent)
        #expect(message.contains("after 1 repair"))
        #expect(message.contains("/n"), "names the field: \(message)")
        #expect(harness.models.hits("json-wrong") == 2)
    }

    @Test func anEnsembleTakesTheMajorityAndListsEveryMember() throws {
        let harness = try RouterHarness(Self.groups)
        let outcome = run(harness, ["model": "unused", "prompt": "Capital of France?", "ensemble": [
            "models": ["provider.openai/say-Lyon", "provider.openai/say-Paris", "provider.openai/say-paris.", "provider.openai/down"],
        ]])
        guard case .success(let output) = outcome else {
            Issue.record("the step failed: \(outcome)")
            return
        }
        #expect(output["text"] == "Paris")
        #expect(output["ensemble"]?["chosen"] == "provider.openai/say-Paris")
        #expect(output["ensemble"]?["votes"] == 2)
        let members = output["ensemble"]?["members"]?.arrayValue ?? []
        #expect(members.count == 4)
        #expect(members[3]["error"] != nil, "a member that failed is listed with why")
        #expect(members[0]["text"] == "Lyon")
    }

    @Test func anEnsembleCanAskAJudge() throws {
        let harness = try RouterHarness(Self.groups)
        let outcome = run(harness, ["model": "unused", "prompt": "Best?", "ensemble": [
            "models": ["provider.openai/say-first", "provider.openai/say-second"], "pick": "judge", "judge": "judge",
        ]])
        guard case .success(let output) = outcome else {
            Issue.record("the step failed: \(outcome)")
            return
        }
        #expect(output["text"] == "second", "the judge answered 2")
        let asked = try #require(harness.models.log.seen.withLock { $0.last { $0["model"] == "say-2" } })
        let prompt = asked["messages"]?.arrayValue?.first?["content"]?.stringValue ?? ""
        #expect(prompt.contains("[1] first") && prompt.contains("[2] second"))
    }

    @Test func firstKAgreeNeedsKAnswersAlike() throws {
        let harness = try RouterHarness(Self.groups)
        let split = run(harness, ["model": "unused", "prompt": "?", "ensemble": [
            "models": ["provider.openai/say-a", "provider.openai/say-b"], "pick": "first-k", "k": 2,
        ]])
        guard case .failure(_, let message, _) = split else {
            Issue.record("two different answers agreed: \(split)")
            return
        }
        #expect(message.contains("no 2 members of the ensemble agreed"))
    }
}
