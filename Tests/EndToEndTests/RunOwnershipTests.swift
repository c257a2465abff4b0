import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisPluginHost
import TrellisTestSupport

/// One owner per run, between real processes on one store: `trellis serve`,
/// a foreground `trellis run --run-id`, and `trellis runs resume`, with
/// every step delivering a webhook to a receiver on 127.0.0.1.
@Suite struct RunOwnershipTests {
    /// Webhook deliveries by webhook id (the step's idempotency key).
    final class Receiver: Sendable {
        let counts = Deliveries()
        let server: LoopbackHTTPServer

        init() throws {
            server = try LoopbackHTTPServer { [counts] request in
                counts.record(request.header("webhook-id") ?? "?")
                usleep(2_000)
                return .init(status: 204)
            }
        }

        var deliveries: [String: Int] { counts.all }
    }

    final class Deliveries: Sendable {
        private let byID = Mutex<[String: Int]>([:])
        func record(_ id: String) { byID.withLock { $0[id, default: 0] += 1 } }
        var all: [String: Int] { byID.withLock { $0 } }
    }

    /// A workflow of `chains` chains of `length` webhook steps, each chain
    /// ending in a join.
    func workflow(chains: Int, length: Int, pause: String = "10ms") -> String {
        var steps = ""
        for chain in 0..<chains {
            var previous: String?
            for index in 0..<length {
                let id = "c\(chain)-\(index)"
                steps += "  - id: \(id)\n    uses: channel.webhook\n    with: { type: step, data: { step: \(id) } }\n"
                if let previous { steps += "    needs: [\(previous)]\n" }
                steps += "  - id: \(id)-pause\n    uses: sleep\n    with: { duration: \(pause) }\n    needs: [\(id)]\n"
                previous = "\(id)-pause"
            }
        }
        let ends = (0..<chains).map { "c\($0)-\(length - 1)-pause" }.joined(separator: ", ")
        steps += "  - id: join\n    uses: noop\n    needs: [\(ends)]\n"
        return "name: owned\nsteps:\n" + steps
    }

    func workspace(_ receiver: Receiver, lease: String = "1s") throws -> Workspace {
        let workspace = try Workspace()
        try workspace.config("""
              channel.webhook:
                egress: [127.0.0.1]
                config: { url: "\(receiver.server.url)/hook" }
                secrets: { signing_secret: "whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=" }
            """, extra: "store: trellis.db\nruntime: { max_concurrent_steps: 4, lease: \(lease), drain_grace: 2s }\n")
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/workflows", withIntermediateDirectories: true)
        return workspace
    }

    /// Starts `trellis` with `arguments` in the background; its output goes to files.
    func start(_ workspace: Workspace, _ arguments: [String], name: String) throws -> Background {
        try Background(workspace: workspace, arguments: arguments, name: name)
    }

    /// What the store recorded for a run: each step's `step_succeeded` and `step_started` counts.
    func eventCounts(_ workspace: Workspace, run: String) throws -> (succeeded: [String: Int], started: [String: Int], total: Int) {
        let store = try SQLiteEvents(path: "\(workspace.path)/trellis.db")
        var succeeded: [String: Int] = [:], started: [String: Int] = [:]
        let events = try store.events(run: run)
        for (type, step) in events {
            if type == "step_succeeded" { succeeded[step ?? "", default: 0] += 1 }
            if type == "step_started" { started[step ?? "", default: 0] += 1 }
        }
        return (succeeded, started, events.count)
    }

    @Test(.timeLimit(.minutes(3)))
    func serveAForegroundRunAndTwoResumesNeverExecuteOneRunTwice() throws {
        let receiver = try Receiver()
        let workspace = try workspace(receiver)
        let file = try workspace.write("owned.yaml", workflow(chains: 4, length: 12, pause: "150ms"))

        // The foreground run creates the run and holds it.
        let foreground = try start(workspace, ["run", file, "--run-id", "r-owned", "--json"], name: "foreground")
        try foreground.waitForOutput(containing: "\"step_succeeded\"", seconds: 30)
        // serve polls the store every second for runs nobody executes.
        let serve = try start(workspace, ["serve", "--workflows", "workflows"], name: "serve")
        // Two resumes at once, and a second `run --run-id`: each is refused, naming the holder.
        let contenders = try [
            start(workspace, ["runs", "resume", "r-owned"], name: "resume-1"),
            start(workspace, ["runs", "resume", "r-owned"], name: "resume-2"),
            start(workspace, ["run", file, "--run-id", "r-owned"], name: "run-again"),
        ]
        for contender in contenders {
            let status = try contender.wait(seconds: 30)
            #expect(status == 1, "\(contender.name) exits non-zero: \(contender.stderr)")
            #expect(contender.stderr.contains("run r-owned is being executed by another process (host "), "\(contender.stderr)")
            #expect(contender.stderr.contains("pid \(foreground.pid)"), "\(contender.name) names the holder: \(contender.stderr)")
        }
        #expect(try foreground.wait(seconds: 60) == 0, "\(foreground.stderr)")

        // serve takes over a run that `trigger` queues, and then it is serve's alone.
        let queued = try workspace.trellis("trigger", file)
        #expect(queued.status == 0, "\(queued.stderr)")
        let triggered = queued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try serve.waitForOutput(containing: "\"run.id\":\"\(triggered)\"", seconds: 30)
        let late = try workspace.trellis("runs", "resume", triggered)
        #expect(late.status == 1)
        #expect(late.stderr.contains("pid \(serve.pid)"), "\(late.stderr)")
        try serve.waitForOutput(containing: "\"run.status\":\"succeeded\"", seconds: 60)
        serve.terminate()
        #expect(try serve.wait(seconds: 10) == 0, "serve drains and stops on SIGTERM: \(serve.stderr)")

        for run in ["r-owned", triggered] {
            let counts = try eventCounts(workspace, run: run)
            #expect(counts.succeeded.count == 97, "\(run): every step succeeded once")
            #expect(counts.succeeded.values.allSatisfy { $0 == 1 }, "\(run): no step_succeeded twice: \(counts.succeeded.filter { $0.value > 1 })")
            #expect(counts.started.values.allSatisfy { $0 == 1 }, "\(run): every step started once")
            let deliveries = receiver.deliveries.filter { $0.key.hasPrefix("\(run)/") }
            #expect(deliveries.count == 48, "\(run): the receiver saw every webhook step")
            #expect(deliveries.values.allSatisfy { $0 == 1 }, "\(run): delivered once each: \(deliveries.filter { $0.value > 1 })")
        }
        #expect(!serve.stderr.contains("\"run.id\":\"r-owned\""), "serve never executed the foreground's run")
    }

    @Test(.timeLimit(.minutes(3)))
    func aStalledHolderIsTakenOverAfterItsLeaseExpiresAndAppendsNothingMore() throws {
        let receiver = try Receiver()
        let workspace = try workspace(receiver)
        let file = try workspace.write("owned.yaml", workflow(chains: 2, length: 15, pause: "40ms"))
        let holder = try start(workspace, ["run", file, "--run-id", "r-stall", "--json"], name: "holder")
        try holder.waitForOutput(containing: "\"step_succeeded\"", seconds: 30)
        kill(holder.pid, SIGSTOP)
        let stalledAt = Date()
        // Within the lease the stalled holder still owns the run.
        let early = try workspace.trellis("runs", "resume", "r-stall")
        if Date().timeIntervalSince(stalledAt) < 0.9 {
            #expect(early.status == 1, "\(early.stderr)")
            #expect(early.stderr.contains("pid \(holder.pid)"), "\(early.stderr)")
        }
        usleep(1_200_000)
        let before = try eventCounts(workspace, run: "r-stall").total
        let successor = try start(workspace, ["runs", "resume", "r-stall"], name: "successor")
        #expect(try successor.wait(seconds: 60) == 0, "the lease expired and another process finished the run: \(successor.stderr)")
        let finished = try eventCounts(workspace, run: "r-stall")
        #expect(finished.total > before)

        // The old holder wakes: it finds the run is no longer its own, and stops.
        kill(holder.pid, SIGCONT)
        let status = try holder.wait(seconds: 20)
        #expect(status == 1, "\(holder.stderr)")
        #expect(holder.stderr.contains("this process stopped executing it"), "\(holder.stderr)")
        let after = try eventCounts(workspace, run: "r-stall")
        #expect(after.total == finished.total, "the old holder appended nothing after it lost the lease")
        #expect(after.succeeded.count == 61)
        #expect(after.succeeded.values.allSatisfy { $0 == 1 }, "\(after.succeeded.filter { $0.value > 1 })")
        let shown = try workspace.trellis("runs", "show", "r-stall", "--json")
        let run = try #require(try json(shown.stdout) as? [String: Any])
        #expect(run["status"] as? String == "succeeded")
    }
}

extension RunOwnershipTests {
    /// SIGTERM ends a foreground run within the drain grace even when a
    /// step's call never returns: the call is abandoned at the grace's end,
    /// the run is recorded as interrupted, and the process exits 130.
    @Test(.timeLimit(.minutes(2)))
    func sigtermEndsAForegroundRunWithinTheDrainGraceWhateverItsStepsDo() throws {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: "store: trellis.db\nexec: true\nruntime: { drain_grace: 1s }\n")
        // A command that ignores SIGTERM: cancelling the step cannot stop it.
        try workspace.write("stuck.yaml", """
            name: stuck
            steps:
              - id: stuck
                uses: exec
                with: { command: [sh, -c, "trap '' TERM; sleep 37.25"] }
            """)
        defer { _ = try? CLI.run("/usr/bin/pkill", ["-f", "sleep 37.25"], in: "/") }
        let run = try start(workspace, ["run", "stuck.yaml", "--run-id", "r-stuck", "--json"], name: "stuck")
        try run.waitForOutput(containing: "\"step_started\"", seconds: 30)
        let signalled = Date()
        run.terminate()
        let status = try run.wait(seconds: 10)
        let took = Date().timeIntervalSince(signalled)
        #expect(status == 130, "drained, not killed: \(run.stderr)")
        #expect(took < 4, "it ended \(took) s after SIGTERM (drain grace 1 s)")
        let shown = try workspace.trellis("runs", "show", "r-stuck", "--json")
        let state = try #require(try json(shown.stdout) as? [String: Any])
        #expect(state["status"] as? String == "interrupted")
        #expect(try store(workspace).leaseHolder(run: "r-stuck") == nil, "the interrupted run's lease was given up")
    }

    func store(_ workspace: Workspace) throws -> LeaseView { LeaseView(path: "\(workspace.path)/trellis.db") }

    /// A SIGTERM that comes as the run is queued drains it, end to end. The
    /// window before the service group listens for signals is too short to
    /// hit every time here; ForegroundRunTests checks the early stop itself.
    @Test(.timeLimit(.minutes(2)))
    func sigtermDuringStartUpStillDrains() throws {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: "store: trellis.db\nruntime: { drain_grace: 500ms }\n")
        try workspace.write("wait.yaml", "name: wait\nsteps: [{ id: a, uses: sleep, with: { duration: 20s } }]\n")
        for index in 0..<3 {
            let run = try start(workspace, ["run", "wait.yaml", "--run-id", "r-early-\(index)"], name: "early-\(index)")
            // The first line is printed as the run is queued, before the group is up.
            try run.waitForOutput(containing: "queued", seconds: 30)
            run.terminate()
            let status = try run.wait(seconds: 15)
            #expect(run.process.terminationReason == .exit, "ended by a signal, not drained: \(run.stderr)")
            #expect(status == 130, "\(status) \(run.stderr)")
        }
    }
}

/// Reads a run's lease columns with Python's sqlite3 module.
struct LeaseView {
    let path: String

    func leaseHolder(run: String) throws -> String? {
        let output = try CLI.run("/usr/bin/python3", ["-c", """
            import sqlite3, sys
            row = sqlite3.connect(sys.argv[1]).execute("SELECT lease_owner FROM runs WHERE id = ?", (sys.argv[2],)).fetchone()
            print(row[0] if row and row[0] else "")
            """, path, run], in: "/")
        guard output.status == 0 else { throw WorkspaceError(message: output.stderr) }
        let owner = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return owner.isEmpty ? nil : owner
    }
}

/// A `trellis` process in the background whose stdout and stderr go to files.
final class Background {
    let name: String
    let process = Process()
    let outPath: String, errPath: String

    init(workspace: Workspace, arguments: [String], name: String, environment extra: [String: String] = [:]) throws {
        self.name = name
        outPath = "\(workspace.path)/\(name).out"
        errPath = "\(workspace.path)/\(name).err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "\(CLI.buildDirectory)/trellis")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TRELLIS_CONFIG")
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    func terminate() { process.terminate() }

    /// Waits for the process to exit; kills it and throws when it takes longer.
    func wait(seconds: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw WorkspaceError(message: "\(name) still ran after \(seconds) s (killed): \(stderr.suffix(2000))")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits until stdout or stderr contains `text`; throws when it does not within `seconds`.
    func waitForOutput(containing text: String, seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if stdout.contains(text) || stderr.contains(text) { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        if stdout.contains(text) || stderr.contains(text) { return }
        throw WorkspaceError(message: "\(name) did not print \(text) within \(seconds) s: \(stderr.suffix(2000))")
    }
}

/// Reads a store's events with Python's sqlite3 module, so the
/// test does not depend on the store's code to check what it wrote.
struct SQLiteEvents {
    let path: String

    func events(run: String) throws -> [(type: String, step: String?)] {
        let output = try CLI.run("/usr/bin/python3", ["-c", """
            import json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for (kind, data) in db.execute("SELECT type, data FROM events WHERE run_id = ? ORDER BY version", (sys.argv[2],)):
                print(kind + "\\t" + str(json.loads(data).get("step", "")))
            """, path, run], in: "/")
        guard output.status == 0 else { throw WorkspaceError(message: output.stderr) }
        return output.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil)
        }
    }
}
