import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a workflow to completion in the foreground.",
        discussion: """
            Shows live progress on a terminal and one line per event otherwise; --json prints every \
            event as a JSON line. Exits 0 when the run succeeds and 1 when it fails, naming the failing \
            step. Ctrl-C (or SIGTERM) stops starting steps, gives running ones the drain grace period, \
            and leaves the run to `trellis runs resume`.
            """)

    @OptionGroup var deployment: DeploymentOptions

    @Argument(help: ArgumentHelp("The workflow file.", valueName: "file"))
    var file: String

    @Option(name: .customLong("input"), help: ArgumentHelp("A workflow input (repeatable).", valueName: "name=value"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Give the run this id (an existing unfinished run with it is resumed).", valueName: "id"))
    var runID: String?

    @Option(help: ArgumentHelp("The store file. Default: the deployment config's `store:`.", valueName: "path"))
    var store: String?

    @Flag(help: "Print events as JSON lines.")
    var json = false

    func validate() throws {
        if let runID, let problem = RunID.problem(runID) { throw ValidationError("--run-id '\(runID)': \(problem)") }
    }

    func run() async throws {
        catchEarlyStopSignals()
        let setup = try HostSetup(deployment)
        let store = try setup.openStore(override: self.store)
        let (workflow, source, catalog) = try setup.loadWorkflow(file: file)
        let values = try parseInputs(inputs, for: workflow)
        let (engine, notifications) = try setup.foregroundEngine(store: store, catalog: catalog,
                                                                 uses: Set(workflow.steps.map(\.uses)))
        let progress = attach(engine, json: json)
        let id: String
        if let runID, let existing = try store.loadState(run: runID) {
            guard !existing.status.isFinished else {
                engine.shutdown()
                throw ValidationError("run \(runID) already \(existing.status.rawValue); choose another --run-id")
            }
            // A run resumes with its own recorded workflow: another file
            // given with its id is refused, and the run is left as it is.
            guard existing.source == source else {
                engine.shutdown()
                throw ValidationError("run \(runID) is a run of workflow '\(existing.workflow)' from \(existing.file), not of \(file) "
                                      + "as it reads now; resume it with `trellis runs resume \(runID)`, or choose another --run-id")
            }
            try resumeOrExplain(engine, runID: runID)
            id = runID
        } else {
            id = try engine.start(workflow: workflow, source: source, inputs: values, runID: runID)
        }
        try await runInForeground(engine, notifications: notifications, runID: id, progress: progress, logger: setup.logger)
    }
}

/// A SIGINT or SIGTERM that came before the service group listens for
/// signals (the run starts while the process is still setting up).
let earlyStopSignal = Atomic<Int32>(0)

/// Until the service group takes signals over, SIGINT and SIGTERM are
/// noted rather than killing the process: the run then drains as soon as
/// the group is up.
func catchEarlyStopSignals() {
    for number in [SIGINT, SIGTERM] {
        signal(number) { caught in earlyStopSignal.store(caught, ordering: .releasing) }
    }
}

/// Shows progress: live on a terminal, one line per event otherwise.
@discardableResult
func attach(_ engine: RunEngine, json: Bool) -> RunProgress {
    let progress = RunProgress(json: json)
    engine.observe { runID, event, state in progress.handle(runID, event, state) }
    return progress
}

/// Resumes a run in this process, or says which process holds it and exits 1.
func resumeOrExplain(_ engine: RunEngine, runID: String) throws {
    do {
        guard try engine.resume(runID: runID) else {
            engine.shutdown()
            let status = try engine.store.runRecord(runID)?.status.rawValue ?? "gone"
            warn("error: run \(runID) already \(status); nothing to resume")
            throw ExitCode(1)
        }
    } catch let held as RunHeldElsewhere {
        engine.shutdown()
        warn("error: \(held)")
        throw ExitCode(1)
    } catch let missing as RunCannotResumeHere {
        engine.shutdown()
        warn("error: \(missing)")
        throw ExitCode(1)
    }
}

/// Runs the host's services until the run ends, then exits as it ended.
/// SIGINT and SIGTERM drain: no new steps start, running ones get the drain
/// grace period, and the run is left to `trellis runs resume`.
func runInForeground(_ engine: RunEngine, notifications: NotificationService?, runID: String,
                     progress: RunProgress, logger: Logger) async throws {
    let foreground = ForegroundRun(engine: engine, runID: runID,
                                   stopAskedEarly: { earlyStopSignal.load(ordering: .acquiring) != 0 }) {
        warn("\nstopping: no new steps start; running steps get the drain grace period")
    }
    let group = ServiceGroup.host(engine: engine, notifications: notifications, driver: foreground,
                                  checkpointing: engine.store as? SQLiteStore, logger: logger)
    try await group.run()
    if let error = progress.outputError {
        warn("error: run \(runID) went on, but its progress could not be written to standard output: \(error)")
        throw ExitCode(1)
    }
    switch foreground.end {
    case .finished(let state) where state.status == .succeeded:
        return
    case .finished(let state):
        if let message = state.message { warn("error: run \(runID) \(state.status.rawValue): \(message)") }
        throw ExitCode(1)
    case .interrupted:
        throw ExitCode(130)
    case .lost(_, let reason):
        warn("error: run \(runID): this process stopped executing it: \(reason)")
        throw ExitCode(1)
    case nil:
        warn("error: run \(runID): the host stopped before the run ended")
        throw ExitCode(1)
    }
}
