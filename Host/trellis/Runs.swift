import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, inspect, cancel, resume and replay runs in the store.",
        subcommands: [List.self, Show.self, Cancel.self, Resume.self, Replay.self])

    struct StoreOptions: ParsableArguments {
        @OptionGroup var deployment: DeploymentOptions
        @Option(help: ArgumentHelp("The store file. Default: the deployment config's `store:`.", valueName: "path"))
        var store: String?

        func open() throws -> (HostSetup, SQLiteStore) {
            let setup = try HostSetup(deployment)
            return (setup, try setup.openStore(override: store))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs, newest first.")
        @OptionGroup var options: StoreOptions
        @Option(help: ArgumentHelp("Only runs with this status.", valueName: "status")) var status: RunStatus?
        @Option(help: "How many runs to show.") var limit = 20

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1, not \(limit)") }
        }
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (_, store) = try options.open()
            let runs = try store.runRecords(limit: limit, status: status)
            if json {
                try printJSON(runs.map(RunSummary.init))
                return
            }
            guard !runs.isEmpty else {
                print("No runs\(status.map { " with status \($0.rawValue)" } ?? "") in \(store.path).")
                return
            }
            printColumns(header: ["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "TRIGGER"], rows: runs.map { run in
                [run.id, run.workflow, run.status.rawValue, clockTime(run.createdAt),
                 formatDuration(run.updatedAt - run.createdAt), run.trigger]
            })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a run: its steps, attempts, durations, outputs, errors and recovery decisions.")
        @OptionGroup var options: StoreOptions
        @Argument(help: ArgumentHelp("The run id.", valueName: "id")) var id: String

        func validate() throws { try validateRunID(id) }
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (_, store) = try options.open()
            guard let state = try store.loadState(run: id) else { throw ValidationError(noSuchRun(id, in: store)) }
            if json {
                try printJSON(state.snapshot.removing("source"))
                return
            }
            print("run \(state.id) · \(state.workflow) · \(state.status.rawValue) · \(formatDuration(state.updatedAt - state.createdAt)) · trigger \(state.trigger)")
            if let message = state.message { print("  \(message)") }
            if !state.inputs.isEmpty { print("  inputs: \(JSONValue.object(state.inputs).jsonString())") }
            let steps = try store.stepRecords(run: id)
            for step in steps {
                var line = "  \(step.id)\(step.plugin.map { " (\($0))" } ?? ""): \(step.status.rawValue)"
                if step.attempts > 0 { line += ", \(step.attempts) attempt\(step.attempts == 1 ? "" : "s")" }
                if let start = step.startedAt, let end = step.finishedAt { line += ", \(formatDuration(end - start))" }
                if let age = step.staleAgeMilliseconds {
                    line += ", stale output from \(formatDuration(Double(age) / 1000)) ago"
                } else if step.fromCache {
                    line += ", from cache"
                }
                if let quality = step.quality { line += ", quality \(quality)" }
                print(line)
                for decision in step.decisions {
                    print("      attempt \(decision.attempt)\(decision.errorClass.map { " → \($0.rawValue)" } ?? "") → \(decision.strategy): \(decision.decision)"
                          + (decision.delayMilliseconds > 0 ? " after \(decision.delayMilliseconds) ms" : ""))
                }
                if let error = step.lastError, step.status != .succeeded {
                    print("      error (\(error.errorClass.rawValue)\(error.timedOut ? ", timed out" : "")): \(error.message)")
                }
                if let reason = step.skipReason { print("      \(reason)") }
                if let output = step.output, output != .null {
                    let text = output.jsonString()
                    print("      output: \(text.count > 160 ? String(text.prefix(157)) + "..." : text)")
                }
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a run.",
            discussion: """
                A run no process executes is cancelled at once. A run that a host executes is cancelled by \
                that host, at its next lease renewal (within a third of the lease): this command asks it to, \
                and waits up to --wait for the run to end.
                """)
        @OptionGroup var options: StoreOptions
        @Argument(help: ArgumentHelp("The run id.", valueName: "id")) var id: String

        func validate() throws { try validateRunID(id) }
        @Option(help: "Why (recorded on the run).") var reason = "cancelled with trellis runs cancel"
        @Option(help: ArgumentHelp("How long to wait for the host executing the run to cancel it.", valueName: "seconds"))
        var wait: Double = 30

        func run() throws {
            let (_, store) = try options.open()
            let owner = LeaseOwner.current(leaseSeconds: 10)
            switch try store.acquireLease(run: id, owner: owner, now: Date().timeIntervalSince1970) {
            case .missing:
                throw ValidationError(noSuchRun(id, in: store))
            case .finished(let status):
                throw ValidationError("run \(id) already \(status.rawValue); nothing to cancel")
            case .acquired:
                try cancelHere(store, owner: owner)
                print("run \(id) cancelled")
            case .held(let holder):
                guard try store.requestCancel(run: id, reason: reason) else {
                    throw ValidationError("run \(id) is no longer running; nothing to cancel")
                }
                warn("asked the process executing run \(id) (\(holder)) to cancel it")
                let deadline = Date().addingTimeInterval(wait)
                while Date() < deadline {
                    if let record = try store.runRecord(id), record.status.isFinished {
                        print("run \(id) \(record.status.rawValue)")
                        return
                    }
                    usleep(50_000)
                }
                warn("run \(id) is still running after \(Int(wait)) s; its host applies the request at its next lease renewal")
                throw ExitCode(1)
            }
        }

        /// Nobody executes the run: this process holds its lease for the one
        /// append that cancels it (finishing the run gives the lease up).
        private func cancelHere(_ store: SQLiteStore, owner: LeaseOwner) throws {
            guard let state = try store.loadState(run: id) else { throw ValidationError(noSuchRun(id, in: store)) }
            var cancelled = state
            let time = Date().timeIntervalSince1970
            let events: [RunEvent] = [.cancelRequested(reason: reason), .runFinished(status: .cancelled, message: reason)]
            for event in events { cancelled.apply(event, at: time) }
            try store.append([RunAppend(runID: id, expectedVersion: state.version, events: events, time: time, state: cancelled,
                                        owner: owner)])
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume an unfinished run in the foreground (after a crash or a drain).",
            discussion: "Completed steps are not run again; steps that were in flight run again with the same idempotency key.")
        @OptionGroup var options: StoreOptions
        @Argument(help: ArgumentHelp("The run id.", valueName: "id")) var id: String

        func validate() throws { try validateRunID(id) }
        @Flag(help: "Print events as JSON lines.") var json = false

        func run() async throws {
            catchEarlyStopSignals()
            let (setup, store) = try options.open()
            guard let state = try store.loadState(run: id) else { throw ValidationError(noSuchRun(id, in: store)) }
            guard !state.status.isFinished else { throw ValidationError("run \(id) already \(state.status.rawValue)") }
            let catalog = setup.loadPlugins(for: state.source, file: state.file)
            let (engine, notifications) = try setup.foregroundEngine(
                store: store, catalog: catalog, uses: HostSetup.uses(state.source, file: state.file))
            let progress = attach(engine, json: json)
            try resumeOrExplain(engine, runID: id)
            try await runInForeground(engine, notifications: notifications, runID: id, progress: progress, logger: setup.logger)
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild a run's state from its events and report any difference from the stored projection.",
            discussion: "Exits with status 1 when the projection differs.")
        @OptionGroup var options: StoreOptions
        @Argument(help: ArgumentHelp("The run id.", valueName: "id")) var id: String

        func validate() throws { try validateRunID(id) }

        func run() throws {
            let (_, store) = try options.open()
            guard let report = try store.replay(run: id) else { throw ValidationError(noSuchRun(id, in: store)) }
            print("replayed \(report.eventCount) events of run \(id): \(report.folded.status.rawValue), \(report.folded.steps.count) steps")
            if report.differences.isEmpty {
                print("the stored projection matches the events")
            } else {
                for difference in report.differences { print("  difference: \(difference)") }
                throw ExitCode(1)
            }
        }
    }
}

struct RunSummary: Encodable {
    var id: String
    var workflow: String
    var status: String
    var trigger: String
    var message: String?
    var createdAt: Double
    var updatedAt: Double

    init(_ record: RunRecord) {
        id = record.id
        workflow = record.workflow
        status = record.status.rawValue
        trigger = record.trigger
        message = record.message
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, workflow, status, trigger, message
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

extension RunStatus: ExpressibleByArgument {}

func noSuchRun(_ id: String, in store: SQLiteStore) -> String {
    "no run '\(id)' in \(store.path); `trellis runs list` shows the runs there"
}

private let dateTimeFormatter: DateFormatter = {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter
}()

func clockTime(_ time: Double) -> String {
    dateTimeFormatter.string(from: Date(timeIntervalSince1970: time))
}

/// Refuses an argument that cannot be a run id, saying why.
func validateRunID(_ id: String) throws {
    if let problem = RunID.problem(id) { throw ValidationError("'\(id)' is not a run id: \(problem)") }
}
