import Foundation
import Testing
import TrellisCore
import TrellisTestSupport

/// `trellis ai …` and `uses: ai` steps through the real binary, against a
/// model API on 127.0.0.1 (OpenAI's wire format) whose `cutter` model
/// breaks its stream after "Hel", "lo".
@Suite struct AICommandTests {
    static func server() throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            let body = (try? JSONValue(json: request.body)) ?? .null
            let model = body["model"]?.stringValue ?? ""
            func chunk(_ text: String, _ finish: String = "null") -> String {
                #"{"choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":\#(finish)}]}"#
            }
            if model == "cutter" {
                return .streamed(LoopbackHTTPServer.Response.serverSentEvents([(nil, chunk("Hel")), (nil, chunk("lo"))]) + [.cut])
            }
            let continues = body["messages"]?.arrayValue?.last?["role"] == "assistant"
            let text = continues ? ", world" : (model == "json" ? #"{\"city\": \"Oslo\"}"# : "answer from \(model)")
            guard body["stream"] == true else {
                return .init(text: #"{"model":"\#(model)","choices":[{"message":{"content":"\#(text)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#)
            }
            return .streamed(LoopbackHTTPServer.Response.serverSentEvents([
                (nil, chunk(text)), (nil, chunk("", "\"stop\"")),
                (nil, #"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#), (nil, "[DONE]")]))
        }
    }

    func workspace(_ server: LoopbackHTTPServer) throws -> Workspace {
        let workspace = try Workspace()
        try workspace.config("""
              provider.openai:
                egress: [127.0.0.1]
                config: { base_url: "\(server.url)/v1" }
            models:
              groups:
                fast:
                  deployments:
                    - { plugin: provider.openai, model: cutter }
                    - { plugin: provider.openai, model: good, price: { input: 1, output: 2 } }
                structured:
                  deployments: [{ plugin: provider.openai, model: json }]
            """, extra: "store: trellis.db\n")
        return workspace
    }

    @Test(.timeLimit(.minutes(1)))
    func askStreamsOneAnswerAcrossAFallbackAndNamesWhoWroteWhat() throws {
        let server = try Self.server()
        let workspace = try workspace(server)
        let ask = try workspace.trellis("ai", "ask", "--model", "fast", "Say hello")
        #expect(ask.status == 0, "\(ask.stderr)")
        #expect(ask.stdout == "Hello, world\n")
        #expect(ask.stderr.contains("provider.openai/cutter (5 characters) then provider.openai/good (7 characters)"), "\(ask.stderr)")
        #expect(ask.stderr.contains("7 in / 3 out tokens"))

        let usage = try workspace.trellis("ai", "usage", "--json")
        let totals = try JSONValue(json: Array(usage.stdout.utf8))
        #expect(totals.arrayValue?.first?["key"] == "provider.openai/good")
        #expect(totals.arrayValue?.first?["cost"] == 0.000013)

        let models = try workspace.trellis("ai", "models")
        #expect(models.stdout.contains("fast  (ordered)"))
        #expect(models.stdout.contains("provider.openai/good  ready"))

        let unknown = try workspace.trellis("ai", "ask", "--model", "fsat", "x")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no model group is named 'fsat'"))
        #expect(unknown.stderr.contains("the groups are fast, structured"))
    }

    @Test(.timeLimit(.minutes(1)))
    func aWorkflowStepAsksAndGetsStructuredOutput() throws {
        let server = try Self.server()
        let workspace = try workspace(server)
        try workspace.write("trip.yaml", """
            name: trip
            steps:
              - id: where
                uses: ai
                with:
                  model: structured
                  prompt: Where to?
                  schema: { type: object, required: [city], properties: { city: { type: string } } }
              - id: say
                uses: noop
                needs: [where]
                with: { city: "${{ steps.where.output.json.city }}", by: "${{ steps.where.output.deployment }}" }
            """)
        let run = try workspace.trellis("run", "trip.yaml", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#""city":"Oslo""#), "\(run.stdout)")
        #expect(run.stdout.contains(#""by":"provider.openai/json""#))
        let byWorkflow = try workspace.trellis("ai", "usage", "--by", "workflow", "--json")
        #expect(byWorkflow.stdout.contains(#""key": "trip""#), "the step's usage is counted for its workflow: \(byWorkflow.stdout)")

        try workspace.write("typo.yaml", """
            name: typo
            steps:
              - { id: ask, uses: ai, with: { model: fsat, prompt: hi } }
              - { id: bad, uses: ai, with: { model: fast, prompt: hi, schema: { type: nonsense } } }
              - { id: none, uses: ai, with: { model: fast } }
            """)
        let validate = try workspace.trellis("validate", "typo.yaml")
        #expect(validate.status == 1)
        let said = validate.stdout + validate.stderr
        #expect(said.contains("typo.yaml:3"), "\(said)")
        #expect(said.contains("no model group is named 'fsat'"))
        #expect(said.contains("the schema is not usable"))
        #expect(said.contains("needs `prompt` or `messages`"))
    }
}
