import Foundation
import Logging
import ServiceLifecycle
import TrellisCore
import TrellisStore

/// The long-running host: resumes unfinished runs, fires triggers, and
/// picks up runs queued by `trellis trigger`, until a graceful shutdown,
/// which drains the engine (no new steps; running ones get the grace period).
public struct HostService: Service {
    let engine: RunEngine
    let scheduler: Scheduler
    let store: any RunStore
    let logger: Logger
    /// How often the store is checked for runs queued by other processes.
    let pollSeconds: Double

    public init(engine: RunEngine, scheduler: Scheduler, store: any RunStore, logger: Logger, pollSeconds: Double = 1) {
        self.engine = engine
        self.scheduler = scheduler
        self.store = store
        self.logger = logger
        self.pollSeconds = pollSeconds
    }

    public func run() async throws {
        var known = Set<String>()
        let resumed = try engine.resumeUnfinished()
        known.formUnion(resumed)
        logger.info("host started", metadata: ["runs.resumed": "\(resumed.count)", "workflows": "\(scheduler.workflowNames.joined(separator: ","))"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            known.formUnion(scheduler.tick())
            // Runs queued by `trellis trigger` (or left by another host).
            for id in (try? store.unfinishedRuns()) ?? [] where !known.contains(id) {
                known.insert(id)
                _ = try? engine.resume(runID: id)
            }
            let wake = scheduler.nextWake().map { $0 - Date().timeIntervalSince1970 } ?? pollSeconds
            try? await Task.sleep(for: .seconds(max(0.02, min(pollSeconds, wake))))
        }
        logger.info("host stopping: draining")
        await engine.drain()
        engine.shutdown()
        logger.info("host stopped")
    }
}

/// Logs every committed run event as a structured line, with `run.id`,
/// `step.id` and `plugin.id` metadata.
public func logRunEvents(of engine: RunEngine, to logger: Logger) {
    engine.observe { runID, event, state in
        var metadata: Logger.Metadata = ["run.id": "\(runID)", "event": "\(event.type)", "workflow": "\(state.workflow)"]
        if let step = event.step {
            metadata["step.id"] = "\(step)"
            if let plugin = state.steps[step]?.plugin { metadata["plugin.id"] = "\(plugin)" }
        }
        switch event {
        case .stepAttemptFailed(_, let attempt, let errorClass, let message, _, _):
            metadata["attempt"] = "\(attempt)"
            metadata["error.class"] = "\(errorClass.rawValue)"
            logger.warning("attempt failed: \(message)", metadata: metadata)
        case .stepFailed(_, let errorClass, let message):
            metadata["error.class"] = "\(errorClass.rawValue)"
            logger.warning("step failed: \(message)", metadata: metadata)
        case .runFinished(let status, let message):
            metadata["run.status"] = "\(status.rawValue)"
            logger.info("run \(status.rawValue)\(message.map { ": \($0)" } ?? "")", metadata: metadata)
        default:
            logger.info("\(event.type)", metadata: metadata)
        }
    }
}
