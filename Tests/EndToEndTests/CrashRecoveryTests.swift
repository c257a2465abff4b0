import Foundation
import Testing

/// A host killed with SIGKILL at any instant resumes its run: the run
/// finishes, no step whose completion was recorded runs again, and every
/// call carries the step's stable idempotency key.
@Suite struct CrashRecoveryTests {
    @Test(.timeLimit(.minutes(10)))
    func killedAtRandomMomentsTheRunStillFinishesExactly() throws {
        let workspace = try Workspace()
        let record = "\(workspace.path)/deliveries.jsonl"
        try workspace.config("  channel.stdout:\n    config: { path: \(record) }\n",
                             extra: "runtime: { max_concurrent_steps: 3 }\n")
        // 12 chains of 25 delivering steps (300), with a short pause after
        // every third one so that a run lasts long enough to be killed often.
        var steps = ""
        for chain in 0..<12 {
            var previous: String?
            for index in 0..<25 {
                let id = "c\(chain)-\(index)"
                steps += "  - id: \(id)\n    uses: channel.stdout\n    with: { text: \"\(id)\" }\n"
                if let previous { steps += "    needs: [\(previous)]\n" }
                previous = id
                if index % 3 == 2 {
                    steps += "  - id: \(id)-pause\n    uses: sleep\n    with: { duration: 15ms }\n    needs: [\(id)]\n"
                    previous = "\(id)-pause"
                }
            }
        }
        try workspace.write("crash.yaml", "name: crash\nsteps:\n" + steps)
        let arguments = ["run", "crash.yaml", "--run-id", "crash-run", "--store", "store.db"]

        // The kill times come from a seeded generator: a failure prints its
        // seed, and TRELLIS_TEST_SEED=<seed> replays the same kill times.
        let seed = ProcessInfo.processInfo.environment["TRELLIS_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("crash test: seed \(seed) (set TRELLIS_TEST_SEED=\(seed) to replay it)")
        var generator = SplitMix64(seed: seed)
        var kills = 0
        var finished = false
        for _ in 0..<60 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let delay = Double.random(in: 0.03...0.15, using: &generator)
            let deadline = Date().addingTimeInterval(delay)
            while process.isRunning && Date() < deadline { usleep(1000) }
            if process.isRunning && kills < 40 {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                kills += 1
                continue
            }
            process.waitUntilExit()
            #expect(process.terminationReason == .exit)
            if process.terminationStatus == 0 {
                finished = true
                break
            }
        }
        #expect(finished, "the run finished after \(kills) kills (seed \(seed))")
        #expect(kills >= 5, "the host was killed mid-run again and again (\(kills) times)")

        // What the store says.
        let shown = try workspace.trellis("runs", "show", "crash-run", "--json", "--store", "store.db")
        let run = try #require(try json(shown.stdout) as? [String: Any])
        #expect(run["status"] as? String == "succeeded")
        let stepStates = try #require(run["steps"] as? [String: [String: Any]])
        #expect(stepStates.count == 396)
        #expect(stepStates.values.allSatisfy { $0["status"] as? String == "succeeded" })
        let delivering = stepStates.filter { !$0.key.hasSuffix("-pause") }
        #expect(delivering.count == 300)
        let replay = try workspace.trellis("runs", "replay", "crash-run", "--store", "store.db")
        #expect(replay.status == 0, "\(replay.stdout)")

        // What the receiver saw: every step, under its stable key, and never
        // more often than the attempts the store recorded starting.
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        var calls: [String: Int] = [:]
        for line in lines {
            let delivery = try #require(try json(String(line)) as? [String: Any])
            let key = try #require(delivery["idempotency_key"] as? String)
            let step = try #require(delivery["step_id"] as? String)
            #expect(key == "crash-run/\(step)", "the key is stable: run and step")
            calls[step, default: 0] += 1
        }
        #expect(calls.count == 300, "the receiver saw every step")
        for (step, state) in delivering {
            let attempts = state["attempts"] as? Double ?? 0
            #expect(Double(calls[step] ?? 0) <= attempts, "\(step): \(calls[step] ?? 0) calls but \(attempts) recorded attempts")
        }
        let repeated = calls.values.filter { $0 > 1 }.count
        print("crash test: \(kills) kills, \(lines.count) deliveries for 300 steps, \(repeated) steps delivered again after a kill")
    }
}

/// A small seeded generator (SplitMix64), so a random test can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
