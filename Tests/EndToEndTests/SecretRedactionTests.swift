import Foundation
import Testing
import TrellisCore
import TrellisTestSupport

/// Secrets are never stored or printed: distinctive secrets are seeded as a
/// workflow secret and a plugin's config secret, then runs that echo them
/// (a noop's output, a model's answer, an exec's stderr, a plugin's error
/// quoting its config) are searched for them, in every case the host
/// writes: the store's files, every command's output, and the JSON log.
@Suite struct SecretRedactionTests {
    static let token = "tok-Zq81-SECRET-value-7731"
    static let url = "NOT-a-URL-hostSecret-5521"

    func leaks(_ text: String) -> [String] {
        [Self.token, Self.url].flatMap { [$0, $0.lowercased(), $0.uppercased()] }.filter { text.contains($0) }
    }

    @Test(.timeLimit(.minutes(2)))
    func noSecretReachesTheStoreTheOutputOrTheLog() throws {
        let workspace = try Workspace()
        let environment = ["API_TOKEN": Self.token, "HOOK_URL": Self.url]
        // A model API that repeats the prompt, and one that quotes the
        // request's Authorization header (the API key) in its error.
        let models = try LoopbackHTTPServer { request in
            let body = (try? JSONValue(json: request.body)) ?? .null
            if body["model"] == "quoter" {
                return .init(status: 500, text: #"{"error":{"message":"bad header: \#(request.header("Authorization") ?? "")"}}"#)
            }
            let prompt = body["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
            let answer = JSONValue.string("you said: " + prompt).jsonString()
            return .init(text: #"{"model":"echo","choices":[{"message":{"content":\#(answer)},"finish_reason":"stop"}]}"#)
        }
        try workspace.config("""
              channel.webhook:
                egress: [127.0.0.1]
                config: { url: "http://127.0.0.1:9/hook" }
                secrets: { signing_secret: "whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=" }
              provider.offline:
              provider.openai:
                egress: [127.0.0.1]
                config: { base_url: "\(models.url)/v1" }
                secrets: { api_key: "${env:API_TOKEN}" }
            models:
              cache: { ttl: 1h }
              groups:
                talk:
                  deployments: [{ plugin: provider.openai, model: quoter }, { plugin: provider.openai, model: echo }]
            """, extra: "store: trellis.db\nexec: true\nsecrets: { API_TOKEN: \"${env:API_TOKEN}\", HOOK_URL: \"${env:HOOK_URL}\" }\n")
        try workspace.write("leaky.yaml", """
            name: leaky
            steps:
              - id: echo
                uses: noop
                with: { token: "${{ secrets.API_TOKEN }}", shout: "Bearer ${{ secrets.API_TOKEN }}" }
              - id: ask
                uses: provider.offline
                needs: [echo]
                with: { messages: [{ role: user, content: "repeat ${{ steps.echo.output.token }}" }] }
              - id: routed
                uses: ai
                needs: [ask]
                with: { model: talk, prompt: "the key is ${{ secrets.API_TOKEN }}" }
              - id: shell
                uses: exec
                needs: [routed]
                continue_on_error: true
                with: { command: [sh, -c, "echo the token is ${{ secrets.API_TOKEN }} >&2; exit 3"] }
              - id: hook
                uses: channel.webhook
                needs: [shell]
                continue_on_error: true
                with: { type: x, data: { a: 1 }, url: "${{ secrets.HOOK_URL }}" }
            """)
        var outputs: [String] = []
        let run = try workspace.trellis("run", "leaky.yaml", "--run-id", "r-leaky", "--json", "--log-level", "debug",
                                        environment: environment)
        outputs += [run.stdout, run.stderr]
        #expect(run.stdout.contains("\"step_succeeded\""), "the run did run: \(run.stderr)")
        #expect(run.stdout.contains("***"), "what was masked shows as ***")
        #expect(run.stdout.contains("you said: the key is ***"), "the routed step answered, masked: \(run.stdout.suffix(2000))")
        for arguments in [["runs", "show", "r-leaky", "--json"], ["runs", "show", "r-leaky"], ["runs", "list", "--json"],
                          ["ai", "ask", "--model", "talk", "repeat \(Self.token)"], ["ai", "ask", "--model", "talk", "--json", "again \(Self.token)"],
                          ["ai", "usage", "--json"], ["ai", "models"]] {
            let shown = try CLI.trellis(arguments, in: workspace.path, environment: environment)
            outputs += [shown.stdout, shown.stderr]
        }
        // serve's JSON log, for the same kind of run queued by trigger.
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/workflows", withIntermediateDirectories: true)
        let serve = try Background(workspace: workspace, arguments: ["serve", "--workflows", "workflows"], name: "serve",
                                   environment: environment)
        let queued = try workspace.trellis("trigger", "leaky.yaml", environment: environment)
        outputs += [queued.stdout, queued.stderr]
        try serve.waitForOutput(containing: "\"run.status\"", seconds: 30)
        serve.terminate()
        _ = try serve.wait(seconds: 15)
        outputs += [serve.stdout, serve.stderr]
        #expect(serve.stderr.contains("\"step.id\":\"shell\""), "serve ran the steps and logged them")
        for (index, output) in outputs.enumerated() {
            #expect(leaks(output).isEmpty, "output \(index) shows \(leaks(output)): \(output.prefix(400))")
        }
        // Every byte the store wrote, the write-ahead log included.
        for file in try FileManager.default.contentsOfDirectory(atPath: workspace.path) where file.hasPrefix("trellis.db") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(workspace.path)/\(file)"))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(leaks(text).isEmpty, "\(file) holds \(leaks(text))")
        }
    }
}
