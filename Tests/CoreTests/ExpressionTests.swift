import Testing
import TrellisCore

@Suite struct ExpressionTests {
    let data: [String: JSONValue] = [
        "inputs": ["who": "Ada", "count": 3, "flags": ["on": true]],
        "steps": ["fetch": ["output": ["text": "hello", "items": [10, 20]], "status": "succeeded"]],
        "run": ["id": "r-1"],
    ]
    func evaluate(_ text: String) throws -> JSONValue {
        try Expression.parse(text).evaluate { data[$0] }
    }

    @Test func pathsAndIndexes() throws {
        #expect(try evaluate("inputs.who") == "Ada")
        #expect(try evaluate("steps.fetch.output.items[1]") == 20)
        #expect(try evaluate("steps.fetch.output['text']") == "hello")
        #expect(try evaluate("steps.missing.output.x") == .null)
        #expect(try evaluate("run.id") == "r-1")
    }

    @Test func operators() throws {
        #expect(try evaluate("inputs.count > 2 && inputs.who == 'Ada'") == true)
        #expect(try evaluate("!inputs.flags.on || false") == false)
        #expect(try evaluate("inputs.count <= 2") == false)
        #expect(try evaluate("(inputs.count >= 3) != false") == true)
        #expect(try evaluate("steps.fetch.status == \"succeeded\"") == true)
        #expect(try evaluate("null == steps.nothing") == true)
    }

    @Test func referencedSteps() throws {
        #expect(try Expression.parse("steps.a.output && steps.b.status == 'ok' || inputs.x").referencedSteps == ["a", "b"])
    }

    @Test func errors() {
        for bad in ["", "inputs.", "foo.bar", "inputs.x ==", "(inputs.x", "'open", "inputs.x )"] {
            #expect(throws: ExpressionError.self, "\(bad)") { try Expression.parse(bad) }
        }
    }

    @Test func templates() throws {
        let lookup: (String) -> JSONValue? = { data[$0] }
        #expect(try Template(parsing: "${{ steps.fetch.output.items }}").render(lookup) == [10, 20], "a lone expression keeps its type")
        #expect(try Template(parsing: "Hi ${{ inputs.who }}, ${{inputs.count}} new").render(lookup) == "Hi Ada, 3 new")
        #expect(try Template(parsing: "plain").render(lookup) == "plain")
        #expect(throws: ExpressionError.self) { try Template(parsing: "${{ inputs.who") }
        let value: JSONValue = ["a": "${{ inputs.who }}", "b": ["x ${{ run.id }}", 1]]
        #expect(value.rendered(lookup) == ["a": "Ada", "b": ["x r-1", 1]])
        #expect(value.templates().map(\.pointer) == ["/a", "/b/0"])
    }
}

@Suite struct DAGTests {
    func steps(_ edges: [(String, [String])]) -> [Step] {
        edges.map { Step(id: $0.0, uses: "noop", needs: $0.1) }
    }

    @Test func upstreamFollowsEveryNeed() {
        let dag = DAG(steps: steps([("c", []), ("a", ["c"]), ("b", ["c"]), ("d", ["a", "b"])]))
        #expect(dag.upstream(of: "d") == ["a", "b", "c"])
        #expect(dag.findCycle() == nil)
    }

    @Test func cycleIsFoundAndNamed() {
        let dag = DAG(steps: steps([("a", ["c"]), ("b", ["a"]), ("c", ["b"]), ("x", [])]))
        let cycle = dag.findCycle()
        #expect(cycle == ["a", "b", "c", "a"])
        let selfLoop = DAG(steps: steps([("a", ["a"])]))
        #expect(selfLoop.findCycle() == ["a", "a"])
    }
}
