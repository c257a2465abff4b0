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

    /// Found by the expression and template fuzzers: 20,000 '(' (or '!')
    /// overflowed the stack; a chain of as many operators would overflow
    /// it when evaluated. Both are refused with the limit.
    @Test func nestingAndLengthAreBounded() throws {
        let deep = String(repeating: "(", count: 20_000) + "inputs.x" + String(repeating: ")", count: 20_000)
        let error = try #require(throws: ExpressionError.self) { try Expression.parse(deep) }
        #expect(error.message.contains("deeper than 64 levels"))
        #expect(throws: ExpressionError.self) { try Expression.parse(String(repeating: "!", count: 20_000) + "inputs.x") }
        #expect(throws: ExpressionError.self) { try Template(parsing: "${{ " + String(repeating: "(", count: 20_000) + " }}") }
        let long = Array(repeating: "inputs.x", count: 5_000).joined(separator: " && ")
        #expect(try #require(throws: ExpressionError.self) { try Expression.parse(long) }.message.contains("more than 512 operators"))
        // Within the limits, nesting still works.
        let fine = String(repeating: "(", count: 60) + "!inputs.x" + String(repeating: ")", count: 60)
        #expect(try Expression.parse(fine).evaluate { _ in ["x": false] } == true)
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

    @Test func upstreamFollowsEveryNeed() throws {
        let dag = DAG(steps: steps([("c", []), ("a", ["c"]), ("b", ["c"]), ("d", ["a", "b"]), ("e", ["c"]), ("f", ["e", "d"])]))
        #expect(dag.findCycle() == nil)
        let index = try #require(UpstreamIndex(dag))
        let ids = ["a", "b", "c", "d", "e", "f"]
        let upstream = ["a": ["c"], "b": ["c"], "c": [], "d": ["a", "b", "c"], "e": ["c"], "f": ["a", "b", "c", "d", "e"]]
        for step in ids {
            for candidate in ids {
                #expect(index.isUpstream(candidate, of: step) == upstream[step]!.contains(candidate), "\(candidate) upstream of \(step)")
            }
        }
        #expect(!index.isUpstream("nope", of: "d"))
        #expect(UpstreamIndex(DAG(steps: steps([("a", ["b"]), ("b", ["a"])]))) == nil, "a cycle has no order")
    }

    @Test func aLongChainNeitherRecursesNorSlowsDown() throws {
        let chain = (0..<50_000).map { Step(id: "s\($0)", uses: "noop", needs: $0 == 0 ? [] : ["s\($0 - 1)"]) }
        let dag = DAG(steps: chain)
        #expect(dag.findCycle() == nil, "no stack overflow at 50,000 levels")
        let index = try #require(UpstreamIndex(dag))
        #expect(index.isUpstream("s0", of: "s49999"))
        #expect(!index.isUpstream("s49999", of: "s0"))
        var looped = chain
        looped[0].needs = ["s49999"]
        let cycle = try #require(DAG(steps: looped).findCycle())
        #expect(cycle.count == 50_001, "the whole ring, found without recursion")
        #expect(cycle.first == cycle.last)
    }

    @Test func cycleIsFoundAndNamed() {
        let dag = DAG(steps: steps([("a", ["c"]), ("b", ["a"]), ("c", ["b"]), ("x", [])]))
        let cycle = dag.findCycle()
        #expect(cycle == ["a", "b", "c", "a"])
        let selfLoop = DAG(steps: steps([("a", ["a"])]))
        #expect(selfLoop.findCycle() == ["a", "a"])
    }
}

/// Inputs the workflow-loader fuzzer found: each was a crash.
@Suite struct ExpressionFuzzFindingsTests {
    @Test(arguments: ["steps.a[", "steps.a[ ", "steps.a[1e300]", "steps.a[99999999999999999999]", "steps.a[-"])
    func aMalformedIndexIsAnErrorNotACrash(source: String) {
        #expect(throws: ExpressionError.self) { try Expression.parse(source) }
    }
}

/// Cron fields the workflow-loader fuzzer found: each was a crash.
@Suite struct CronFuzzFindingsTests {
    @Test(arguments: ["/5 * * * *", "- * * * *", "1- * * * *", "-5 * * * *", ", * * * *", "1,,2 * * * *", "*/ * * * *"])
    func aMalformedFieldIsAnErrorNotACrash(text: String) {
        #expect(throws: CronError.self) { try CronExpression(text) }
    }
}
