import Foundation
import Logging
import ServiceLifecycle
import TrellisCore
import TrellisStore

/// What drives `trellis serve`'s engine: resumes unfinished runs no live process
/// holds, fires triggers, and takes over runs queued by `trellis trigger`
/// (or left by a host that died), until the group shuts down. It is the
/// last service of `ServiceGroup.host`, so it stops first; the engine then
/// drains.
public struct SchedulingService: Service {
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
