import Foundation
import Testing

/// The workflows the docs show are validated and run, so that they cannot
/// rot: every ```yaml block of docs/*.md that is a whole workflow (it has
/// `name:` and `steps:` at the top level), and every docs/examples/*.yaml.
@Suite struct DocExamplesTests {
    static func examples() throws -> [(name: String, text: String)] {
        let docs = "\(CLI.packageRoot)/docs"
        var found: [(String, String)] = []
        for page in try FileManager.default.contentsOfDirectory(atPath: docs).sorted() where page.hasSuffix(".md") {
            let text = try String(contentsOfFile: "\(docs)/\(page)", encoding: .utf8)
            var rest = Substring(text)
            var line = 1
            while let open = rest.range(of: "```yaml\n") {
                line += rest[..<open.lowerBound].filter { $0 == "\n" }.count + 1
                guard let close = rest[open.upperBound...].range(of: "```") else { break }
                let block = String(rest[open.upperBound..<close.lowerBound])
                let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
                if lines.contains(where: { $0.hasPrefix("name:") }) && lines.contains(where: { $0.hasPrefix("steps:") }) {
                    found.append(("\(page):\(line)", block))
                }
                line += block.filter { $0 == "\n" }.count
                rest = rest[close.upperBound...]
            }
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: "\(docs)/examples").sorted() where file.hasSuffix(".yaml") {
            found.append(("examples/\(file)", try String(contentsOfFile: "\(docs)/examples/\(file)", encoding: .utf8)))
        }
        return found
    }

    @Test func everyWorkflowInTheDocsValidatesAndRuns() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 2, "the workflows page and the demo")
        let workspace = try Workspace()
        try workspace.config("""
              channel.stdout:
              channel.null:
              provider.offline:
              recovery.fixed-delay:
              recovery.retry:
              analyzer.standard:
              analyzer.english:
            models:
              groups:
                fast: { deployments: [{ plugin: provider.offline, model: offline-echo }] }
            """, extra: "store: trellis.db\n")
        // The search page's workflow indexes into `docs`, made from the page's own schema.
        let search = try String(contentsOfFile: "\(CLI.packageRoot)/docs/search.md", encoding: .utf8)
        let schema = try #require(search.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        try workspace.write("schema.json", schema)
        let created = try workspace.trellis("search", "create", "docs", "--schema", "schema.json")
        #expect(created.status == 0, "the search page's schema is accepted: \(created.stderr)")
        for (index, example) in examples.enumerated() {
            let file = try workspace.write("example-\(index).yaml", example.text)
            let validated = try workspace.trellis("validate", file)
            #expect(validated.status == 0, "\(example.name) validates: \(validated.stdout)\(validated.stderr)")
            let run = try workspace.trellis("run", file)
            #expect(run.status == 0, "\(example.name) runs: \(run.stderr)")
        }
    }

    /// Every deployment config the providers page shows (a ```yaml block
    /// with a top-level `models:`) is one the host accepts: `trellis ai
    /// models` reads it and lists its groups.
    @Test func everyModelsSectionInTheProvidersPageIsAccepted() throws {
        let page = try String(contentsOfFile: "\(CLI.packageRoot)/docs/providers.md", encoding: .utf8)
        let blocks = page.components(separatedBy: "```yaml\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
            .filter { $0.split(separator: "\n").contains { $0.hasPrefix("models:") } }
        #expect(blocks.count >= 2, "the reference and the worked example")
        let workspace = try Workspace()
        for (index, block) in blocks.enumerated() {
            // The reference block is a models: section alone; the example brings its plugins.
            let plugins = block.contains("\nplugins:") || block.hasPrefix("plugins:") ? "" : """
                plugins:
                  provider.openai: { egress: [api.openai.com], secrets: { api_key: "${env:OPENAI_API_KEY}" } }
                  provider.anthropic: { egress: [api.anthropic.com], secrets: { api_key: "${env:ANTHROPIC_API_KEY}" } }
                  provider.gemini: { egress: [generativelanguage.googleapis.com], secrets: { api_key: "${env:GEMINI_API_KEY}" } }
                  provider.ollama: { egress: ["127.0.0.1:11434"] }
                  recovery.retry:

                """
            try workspace.write("config-\(index).yaml", "registry: [registry]\nstore: trellis.db\n" + plugins + block)
            let keys = ["OPENAI_API_KEY": "sk-doc", "ANTHROPIC_API_KEY": "sk-ant-doc", "GEMINI_API_KEY": "AIza-doc",
                        "AZURE_OPENAI_KEY": "az-doc"]
            let listed = try CLI.trellis(["ai", "models", "--config", "config-\(index).yaml", "--json"], in: workspace.path,
                                         environment: keys)
            #expect(listed.status == 0, "providers.md block \(index): \(listed.stderr)")
            let groups = Set(((try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? [])
                .compactMap { $0["group"] as? String })
            #expect(!groups.isEmpty, "providers.md block \(index) lists its groups: \(listed.stdout)")
            #expect(!listed.stderr.contains("did not load"), "providers.md block \(index): \(listed.stderr)")
        }
    }

    /// Shell sessions the docs mark `<!-- tested: … -->` run as written, in an
    /// empty folder with this build's `trellis` first on the PATH.
    @Test(.timeLimit(.minutes(3)))
    func thePublishingWalkthroughRuns() async throws {
        let page = try String(contentsOfFile: "\(CLI.packageRoot)/docs/publishing.md", encoding: .utf8)
        let blocks = page.components(separatedBy: "<!-- tested: ").dropFirst()
            .compactMap { $0.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first }
        #expect(blocks.count == 1, "the walkthrough is marked")
        for block in blocks {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-doc-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            let ran = try await CLI.runOffPool("/bin/bash", ["-euo", "pipefail", "-c", block], in: directory,
                                               environment: ["PATH": "\(CLI.buildDirectory):\(path)", "HOME": directory])
            #expect(ran.status == 0, "the walkthrough stopped: \(ran.stdout)\n\(ran.stderr)")
            #expect(ran.stdout.contains(#""status": "delivered""#), "the installed plugin delivered: \(ran.stdout)")
            #expect(ran.stdout.range(of: #"channel\.acme +channel +0\.1\.0 +ok"#, options: .regularExpression) != nil,
                    "plugins list shows it loaded: \(ran.stdout)")
        }
    }

    /// The Swift filter on the search page is the fixture the package builds
    /// and the tests load, word for word.
    @Test func theSearchPagesSwiftFilterIsTheBuiltFixture() throws {
        let page = try String(contentsOfFile: "\(CLI.packageRoot)/docs/search.md", encoding: .utf8)
        let block = try #require(page.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        let fixture = try String(contentsOfFile: "\(CLI.packageRoot)/Tests/Fixtures/ShortWordFilter/ShortWordFilter.swift", encoding: .utf8)
        #expect(block == fixture)
        #expect(FileManager.default.fileExists(atPath: "\(CLI.buildDirectory)/libTrellisFixtureShortWordFilter.so"))
    }
}
