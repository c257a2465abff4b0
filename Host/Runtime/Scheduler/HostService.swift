import Foundation
import Logging
import ServiceLifecycle
import TrellisCore
import TrellisStore

/// The long-running host's driver: resumes unfinished runs no live process
/// holds, fires triggers, and takes over runs queued by `trellis trigger`
/// (or left by a host that died), until the group shuts down. It is the
/// last service of `ServiceGroup.host`, so it stops first; the engine then
/// drains.
public struct HostService: Service {
    let engine: RunEngine
    let scheduler: Scheduler
    let logger: Logger
    /// How often the store is checked for runs nobody executes.
    let pollSeconds: Double

    public init(engine: RunEngine, scheduler: Scheduler, logger: Logger, pollSeconds: Double = 1) {
        self.engine = engine
        self.scheduler = scheduler
        self.logger = logger
        self.pollSeconds = pollSeconds
    }

    public func run() async throws {
        let resumed = (try? engine.resumeUnfinished()) ?? []
        logger.info("host started", metadata: ["runs.resumed": "\(resumed.count)", "workflows": "\(scheduler.workflowNames.joined(separator: ","))",
                                               "lease.owner": "\(engine.owner.id)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            _ = scheduler.tick()
            // Runs queued by `trellis trigger`, or whose holder died or stalled.
            do {
                let adopted = try engine.resumeUnfinished(limit: 64)
                if !adopted.isEmpty { logger.info("runs taken over", metadata: ["runs": "\(adopted.joined(separator: ","))"]) }
            } catch {
                logger.warning("cannot look for unfinished runs", metadata: ["error": "\(error)"])
            }
            let wake = scheduler.nextWake().map { $0 - Date().timeIntervalSince1970 } ?? pollSeconds
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .seconds(max(0.02, min(pollSeconds, wake))))
            }
        }
        logger.info("host stopping: draining")
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
