import Foundation
import Testing
import TrellisCore

/// `trellis run`, `runs …`, `trigger` and `serve`, as a user drives them.
@Suite struct RunCommandTests {
    let plugins = """
          channel.stdout:
          channel.null:
          provider.offline:
          recovery.fixed-delay:
        """

    @Test func theDemoWorkflowRunsAndIsRecorded() throws {
        let workspace = try Workspace()
        try workspace.config(plugins)
        let result = try workspace.trellis("run", "\(CLI.packageRoot)/docs/examples/demo.yaml", "--input", "question=Why?")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("step ask succeeded"))
        #expect(result.stdout.contains("\"text\":\"Q: Why? A: echo: Why?\""), "the stdout channel got the rendered message")
        #expect(result.stdout.contains("succeeded in"))

        let list = try workspace.trellis("runs", "list", "--json")
        let runs = try #require(try json(list.stdout) as? [[String: Any]])
        #expect(runs.count == 1)
        #expect(runs.first?["status"] as? String == "succeeded")
        let id = try #require(runs.first?["id"] as? String)
        let show = try workspace.trellis("runs", "show", id)
        #expect(show.stdout.contains("ask (provider.offline): succeeded, 1 attempt"))
        #expect(show.stdout.contains("announce (channel.stdout): succeeded"))
        #expect(try workspace.trellis("runs", "replay", id).stdout.contains("matches the events"))
        #expect(FileManager.default.fileExists(atPath: "\(workspace.path)/.trellis/trellis.db"), "the default store")
    }

    /// libcurl and the libraries it needs are opened at the first HTTP or
    /// SMTP request, not at start-up: a run without one never loads them.
    @Test func aRunWithoutRequestsNeverLoadsLibcurl() throws {
        let workspace = try Workspace()
        try workspace.config(plugins)
        let result = try workspace.trellis("run", "\(CLI.packageRoot)/docs/examples/demo.yaml", environment: ["LD_DEBUG": "libs"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("calling init: "), "the loader reported the libraries it opened")
        #expect(result.stderr.contains("libsqlite3"), "the loader reported the libraries it opened")
        #expect(!result.stderr.contains("libcurl"))
    }

    @Test func aFailingRunExitsNonZeroNamingTheStep() throws {
        let workspace = try Workspace()
        try workspace.config(plugins)
        try workspace.write("fail.yaml", """
            name: fails
            steps:
              - id: ask
                uses: provider.offline
                with: { model: gpt-9, messages: [{ role: user, content: hi }] }
              - id: after
                uses: channel.null
                needs: [ask]
            """)
        let result = try workspace.trellis("run", "fail.yaml")
        #expect(result.status == 1)
        #expect(result.stderr.contains("step 'ask' failed (config): unknown model 'gpt-9'"), "\(result.stderr)")
        #expect(result.stdout.contains("step after skipped: it needs 'ask', which failed"))
    }

    @Test func runsShowListsEachRecoveryDecisionWithTheFailuresClass() throws {
        let workspace = try Workspace()
        try workspace.config(plugins + "\n  recovery.degrade:")
        try workspace.write("degrade.yaml", """
            name: degrades
            steps:
              - id: ask
                uses: provider.offline
                with: { model: gpt-9, messages: [{ role: user, content: hi }] }
                recovery:
                  - uses: recovery.degrade
                    with: { output: { text: "no answer" }, quality: 0.1 }
            """)
        let result = try workspace.trellis("run", "degrade.yaml", "--run-id", "r-degraded")
        #expect(result.status == 0, "\(result.stderr)")
        let show = try workspace.trellis("runs", "show", "r-degraded")
        #expect(show.stdout.contains("ask (provider.offline): succeeded, 1 attempt"), "\(show.stdout)")
        #expect(show.stdout.contains("attempt 1 → config → recovery.degrade: degrade"), "\(show.stdout)")
    }

    @Test func jsonEventsAndInputErrors() throws {
        let workspace = try Workspace()
        try workspace.config(plugins)
        let events = try workspace.trellis("run", "\(CLI.packageRoot)/docs/examples/demo.yaml", "--json")
        let types = events.stdout.split(separator: "\n").compactMap { line -> String? in
            (try? json(String(line)) as? [String: Any])?["type"] as? String
        }
        #expect(types.first == "run_queued")
        #expect(types.last == "run_finished")
        #expect(types.contains("step_started"))
        let typo = try workspace.trellis("run", "\(CLI.packageRoot)/docs/examples/demo.yaml", "--input", "questoin=x")
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("did you mean 'question'?"))
        let invalid = try workspace.write("bad.yaml", "name: x\nsteps:\n  - id: a\n    uses: channel.nul\n")
        let refused = try workspace.trellis("run", invalid)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("bad.yaml:4:5: unknown plugin 'channel.nul' (did you mean 'channel.null'?)"))
    }

    @Test func cancelAndResumeFromTheCommandLine() throws {
        let workspace = try Workspace()
        try workspace.config(plugins, extra: "runtime: { drain_grace: 200ms }\n")
        try workspace.write("two.yaml", """
            name: two
            steps:
              - { id: first, uses: channel.null }
              - { id: wait, uses: sleep, with: { duration: 30s }, needs: [first] }
            """)
        // Start a run and stop the host mid-step with SIGTERM: it drains.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
        process.arguments = ["run", "two.yaml", "--run-id", "r-two"]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let shown = { try workspace.trellis("runs", "show", "r-two", "--json").stdout }
        var waited = 0
        while !((try? shown()) ?? "").contains("\"running\""), waited < 200 {
            usleep(20_000)
            waited += 1
        }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "drained, not killed")
        #expect(try shown().contains("\"interrupted\""))
        let cancelled = try workspace.trellis("runs", "cancel", "r-two", "--reason", "no longer needed")
        #expect(cancelled.status == 0, "\(cancelled.stderr)")
        let again = try workspace.trellis("runs", "cancel", "r-two")
        #expect(again.status != 0)
        #expect(again.stderr.contains("already cancelled"))
        let resumed = try workspace.trellis("runs", "resume", "r-two")
        #expect(resumed.status != 0)
        #expect(resumed.stderr.contains("already cancelled"))
    }

    @Test func serveRunsTriggersAndQueuedRunsThenDrainsOnSIGTERM() throws {
        let workspace = try Workspace()
        try workspace.config(plugins, extra: "runtime: { drain_grace: 1s }\n")
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/workflows", withIntermediateDirectories: true)
        try workspace.write("workflows/tick.yaml", """
            name: tick
            triggers: [{ interval: 300ms }]
            steps: [{ id: ping, uses: channel.null }]
            """)
        try workspace.write("workflows/after.yaml", """
            name: after-tick
            triggers: [{ after: tick, on: success, overlap: allow }]
            steps: [{ id: pong, uses: channel.null }]
            """)
        try workspace.write("workflows/broken.yaml", "name: broken\nsteps: [{ id: a, uses: channel.none }]\n")
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
        serve.arguments = ["serve"]
        serve.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        let log = Pipe()
        serve.standardError = log
        serve.standardOutput = FileHandle.nullDevice
        try serve.run()
        let queued = try workspace.trellis("trigger", "\(CLI.packageRoot)/docs/examples/demo.yaml", "--input", "question=queued")
        #expect(queued.status == 0, "\(queued.stderr)")
        let runID = queued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var statuses: [String: String] = [:]
        for _ in 0..<150 {
            usleep(40_000)
            let list = try workspace.trellis("runs", "list", "--json", "--limit", "100")
            let runs = (try? json(list.stdout) as? [[String: Any]]) ?? []
            statuses = Dictionary(runs.map { ($0["id"] as? String ?? "", $0["workflow"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
            let workflows = Set(statuses.values)
            if workflows.isSuperset(of: ["tick", "after-tick"]) && statuses[runID] != nil { break }
        }
        serve.terminate()
        serve.waitUntilExit()
        let lines = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(Set(statuses.values).isSuperset(of: ["tick", "after-tick", "demo"]), "\(statuses)")
        let entries = lines.compactMap { try? json(String($0)) as? [String: Any] }
        #expect(entries.count == lines.count, "every log line is JSON")
        #expect(entries.contains { ($0["message"] as? String)?.contains("workflow skipped: unknown plugin 'channel.none'") == true })
        #expect(entries.contains { $0["run.id"] as? String == runID && $0["event"] as? String == "run_finished" })
        #expect(entries.contains { $0["step.id"] != nil && $0["run.id"] != nil && $0["plugin.id"] as? String == "channel.null" })
        #expect(entries.contains { $0["message"] as? String == "host stopped" }, "SIGTERM drained and stopped cleanly")
        #expect(serve.terminationStatus == 0)
    }
}

/// Standard output that goes away or fills up: the run is never the victim.
@Suite struct RunOutputTests {
    func workspace() throws -> Workspace {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: "store: trellis.db\n")
        var steps = "name: chatty\nsteps:\n  - { id: s0, uses: channel.null }\n"
        for index in 1..<20 {
            steps += "  - { id: s\(index), uses: sleep, with: { duration: 10ms }, needs: [s\(index - 1)] }\n"
        }
        try workspace.write("chatty.yaml", steps)
        return workspace
    }

    /// `trellis run … | head -1`: the reader leaves after one line; the
    /// process does not die of SIGPIPE, and the run finishes.
    @Test(.timeLimit(.minutes(1)))
    func aClosedStdoutEndsTheDisplayNotTheRun() throws {
        let workspace = try workspace()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
        process.arguments = ["run", "chatty.yaml", "--run-id", "r-chatty"]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read the first line, then go away as `head -1` does.
        var first = Data()
        while !first.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            first.append(chunk)
        }
        try out.fileHandleForReading.close()
        process.waitUntilExit()
        #expect(!first.isEmpty)
        #expect(process.terminationReason == .exit, "not killed by a signal")
        #expect(process.terminationStatus == 0)
        let shown = try workspace.trellis("runs", "show", "r-chatty", "--json")
        let run = try #require(try json(shown.stdout) as? [String: Any])
        #expect(run["status"] as? String == "succeeded")
    }

    /// `trellis run … > /dev/full`: the run finishes, and the command says
    /// its output was lost and exits non-zero.
    @Test(.timeLimit(.minutes(1)))
    func aFullStdoutIsAnError() throws {
        let workspace = try workspace()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
        process.arguments = ["run", "chatty.yaml", "--run-id", "r-full"]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(stderr.contains("its progress could not be written to standard output: No space left on device"), "\(stderr)")
        let shown = try workspace.trellis("runs", "show", "r-full", "--json")
        let run = try #require(try json(shown.stdout) as? [String: Any])
        #expect(run["status"] as? String == "succeeded")
    }
}

/// Run ids are checked where they enter.
@Suite struct RunIDTests {
    @Test(arguments: [
        ("../../etc/x", "a run id starts with a letter or a digit"),
        ("", "a run id cannot be empty"),
        ("a/b", "a run id holds only letters, digits, '.', '_', '-' and ':' (not '/')"),
        ("a..b", "a run id cannot contain '..'"),
        (String(repeating: "x", count: 129), "a run id is at most 128 characters (this one has 129)"),
    ])
    func aBadRunIDIsRefusedSayingWhy(id: String, problem: String) throws {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: "store: trellis.db\n")
        try workspace.write("one.yaml", "name: one\nsteps: [{ id: a, uses: channel.null }]\n")
        let run = try workspace.trellis("run", "one.yaml", "--run-id", id)
        #expect(run.status != 0)
        #expect(run.stderr.contains("--run-id '\(id)': \(problem)"), "\(run.stderr)")
        let show = try workspace.trellis("runs", "show", id)
        #expect(show.status != 0)
        #expect(show.stderr.contains("is not a run id: \(problem)"), "\(show.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.path)/trellis.db"), "nothing was opened or written")
    }

    @Test func ordinaryIDsAreAccepted() {
        for id in ["r-mx54acjz-9xcedy35", "nightly.2026-12-01", "deploy:web_3"] { #expect(RunID.problem(id) == nil, "\(id)") }
    }
}
