import Metrics
import TrellisCore

/// The runner's metrics. Handles are made once per label and kept, so a
/// committed event costs a dictionary lookup and an atomic add. Touched
/// only on the engine thread.
final class EngineMetrics {
    private var events: [String: Counter] = [:]
    private var finished: [RunStatus: Counter] = [:]
    let activeRuns = Gauge(label: "trellis_runs_active")

    /// Counts committed events by type, and finished runs by status.
    func committed(_ batch: [RunEvent]) {
        for event in batch {
            let type = event.type
            let counter = events[type] ?? {
                let made = Counter(label: "trellis_run_events_total", dimensions: [("type", type)])
                events[type] = made
                return made
            }()
            counter.increment()
            if case .runFinished(let status, _) = event {
                let counter = finished[status] ?? {
                    let made = Counter(label: "trellis_runs_finished_total", dimensions: [("status", status.rawValue)])
                    finished[status] = made
                    return made
                }()
                counter.increment()
            }
        }
    }
}
