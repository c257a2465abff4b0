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
            """, extra: "store: trellis.db\n")
        for (index, example) in examples.enumerated() {
            let file = try workspace.write("example-\(index).yaml", example.text)
            let validated = try workspace.trellis("validate", file)
            #expect(validated.status == 0, "\(example.name) validates: \(validated.stdout)\(validated.stderr)")
            let run = try workspace.trellis("run", file)
            #expect(run.status == 0, "\(example.name) runs: \(run.stderr)")
        }
    }
}
