import ArgumentParser
import Foundation
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

    func run() async throws {
        let setup = try HostSetup(deployment)
        let store = try setup.openStore(override: self.store)
        let (workflow, source, catalog) = try setup.loadWorkflow(file: file)
        let values = try parseInputs(inputs, for: workflow)
        let (engine, notifications) = try setup.foregroundEngine(store: store, catalog: catalog,
                                                                 uses: Set(workflow.steps.map(\.uses)))
        defer { notifications?.finish() }
        let id: String
        if let runID, let existing = try store.loadState(run: runID) {
            guard !existing.status.isFinished else {
                throw ValidationError("run \(runID) already \(existing.status.rawValue); choose another --run-id")
            }
            try attach(engine, json: json)
            _ = try engine.resume(runID: runID)
            id = runID
        } else {
            try attach(engine, json: json)
            id = try engine.start(workflow: workflow, source: source, inputs: values, runID: runID)
        }
        try await finish(engine, runID: id)
    }
}

/// Shows progress and turns SIGINT/SIGTERM into a drain.
func attach(_ engine: RunEngine, json: Bool) throws {
    let progress = RunProgress(json: json)
    engine.observe { runID, event, state in progress.handle(runID, event, state) }
    DrainOnSignal.install(engine)
}

/// Waits for the run, stops the engine, and exits as the run ended.
func finish(_ engine: RunEngine, runID: String) async throws {
    let state = await engine.wait(for: runID)
    engine.shutdown()
    switch state.status {
    case .succeeded:
        return
    case .interrupted:
        throw ExitCode(130)
    default:
        if let message = state.message { warn("error: run \(runID) \(state.status.rawValue): \(message)") }
        throw ExitCode(1)
    }
}

/// SIGINT and SIGTERM start a drain instead of killing the process.
enum DrainOnSignal {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install(_ engine: RunEngine) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                warn("\nstopping: no new steps start; running steps get the drain grace period")
                engine.beginDrain()
            }
            source.resume()
            sources.append(source)
        }
    }
}
