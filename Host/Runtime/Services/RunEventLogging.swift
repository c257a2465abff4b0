import Logging
import TrellisCore

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
