import Metrics
import Prometheus

/// The process's metrics: swift-metrics bootstrapped onto one Prometheus
/// registry, whose text exposition `/metrics` serves. Every part of the
/// host reports through swift-metrics (`Counter`, `Timer`, `Gauge`), so it
/// does not know the backend.
///
/// Names are Prometheus style: `trellis_<subsystem>_<what>_<unit>`, counters
/// ending in `_total`. The runner reports `trellis_run_events_total{type}`,
/// `trellis_runs_finished_total{status}` and `trellis_runs_active`; the
/// store `trellis_store_appends_total`, `trellis_store_append_events_total`
/// and `trellis_store_append_seconds`; notifications
/// `trellis_notification_deliveries_total{channel, state}`; recovery
/// `trellis_recovery_decisions_total{strategy, decision}`.
public enum HostMetrics {
    /// The registry every metric of this process lands in.
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Bool = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Store appends and plugin calls take micro- to milliseconds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return true
    }()

    /// Bootstraps swift-metrics onto the registry (once per process; later
    /// calls do nothing).
    public static func bootstrap() {
        _ = bootstrapped
    }

    /// The registry's text exposition (Prometheus 0.0.4 text format).
    public static func exposition() -> String {
        registry.emitToString()
    }
}
