import Testing
import TrellisCore

/// The store writes events, step rows and snapshots with `JSONWriter`
/// directly: the bytes must be canonical (keys sorted, as `jsonBytes()`
/// writes any value) and read back into the same event or state.
@Suite struct RunJSONTests {
    static let output: JSONValue = [
        "text": "quote \" slash \\ tab \t newline \n bell \u{07} é ✓", "count": 3, "ratio": 0.25, "big": 12_345_678_901,
        "negative": -42, "tiny": 1e-7, "list": [1, "two", nil, true, false, [:], []], "nested": ["a": ["b": "c"]],
    ]

    static let events: [RunEvent] = [
        .runQueued(RunQueued(workflow: "wf", file: "a/b.yaml", source: "name: wf\nsteps: []\n", inputs: ["n": 1, "s": "x"],
                             trigger: "cron", steps: ["a", "b"])),
        .runQueued(RunQueued(workflow: "wf", file: "-", source: "", inputs: [:], trigger: "manual")),
        .runStarted,
        .stepStarted(step: "fetch", attempt: 2, key: "r-1/fetch", plugin: "channel.null"),
        .stepAttemptFailed(step: "fetch", attempt: 1, errorClass: .rateLimited, message: "429 \"slow down\"",
                           retryAfterMilliseconds: 1500, timedOut: false),
        .stepAttemptFailed(step: "fetch", attempt: 3, errorClass: .retryable, message: "timed out", retryAfterMilliseconds: 0,
                           timedOut: true),
        .recoveryDecided(step: "fetch", attempt: 1, strategy: "recovery.retry", decision: "retry", delayMilliseconds: 250,
                         detail: nil),
        .recoveryDecided(step: "fetch", attempt: 2, strategy: "recovery.fallback", decision: "fallback", delayMilliseconds: 0,
                         detail: ["uses": "channel.stdout", "with": ["text": "x"]]),
        .stepSucceeded(step: "fetch", attempt: 1, output: output, fromCache: false, quality: nil),
        .stepSucceeded(step: "fetch", attempt: 4, output: "plain", fromCache: true, quality: 0.5, staleAgeMilliseconds: 90_000),
        .stepSucceeded(step: "fetch", attempt: 1, output: .null, fromCache: false, quality: 1),
        .stepSkipped(step: "notify", reason: "its condition is false: ${{ inputs.send }}"),
        .stepFailed(step: "fetch", errorClass: .permanent, message: "400 bad request"),
        .stepInterrupted(step: "fetch", attempt: 2),
        .cancelRequested(reason: "cancelled by request"),
        .runFinished(status: .failed, message: "step 'fetch' failed"),
        .runFinished(status: .succeeded, message: nil),
        .runInterrupted,
    ]

    @Test(arguments: events) func eventBytesMatchTheValueForm(_ event: RunEvent) throws {
        #expect(event.dataJSON == event.data.jsonBytes())
        let reread = try RunEvent(type: event.type, data: JSONValue(json: event.dataJSON))
        #expect(reread == event)
    }

    @Test func stepAndSnapshotBytesMatchTheValueForm() throws {
        var state = RunState(id: "r-1")
        for (index, event) in Self.events.enumerated() where event != .runInterrupted {
            state.apply(event, at: 1_700_000_000.125 + Double(index))
            for step in state.steps.values {
                #expect(step.snapshotJSON == step.snapshot.jsonBytes(), "step \(step.id) after \(event.type)")
            }
            #expect(state.snapshotJSON == state.snapshot.jsonBytes(), "run after \(event.type)")
        }
        #expect(state.steps["fetch"]?.decisions.count == 2)
        #expect(try RunState(snapshot: JSONValue(json: state.snapshotJSON)) == state)
    }

    @Test func writerNumbersAndStrings() {
        func bytes(_ value: JSONValue) -> String { value.jsonString() }
        #expect(bytes(0) == "0")
        #expect(bytes(-7) == "-7")
        #expect(bytes(9_007_199_254_740) == "9007199254740")
        #expect(bytes(-1_234_567_890_123) == "-1234567890123")
        #expect(bytes(2.5) == "2.5")
        #expect(bytes(1e20) == "1e+20")
        #expect(bytes(.number(.infinity)) == "null")
        #expect(bytes("a\u{0}b\u{1F}") == "\"a\\u0000b\\u001f\"")
        #expect(bytes(["b": 1, "a": [true, nil]]) == "{\"a\":[true,null],\"b\":1}")
        #expect((["k": [1, 2]] as JSONValue).jsonString(pretty: true) == "{\n  \"k\": [\n    1,\n    2\n  ]\n}")
    }
}
