import Foundation
import Testing
import TrellisCore
@testable import TrellisRuntime

/// Metrics reach an exporter: swift-metrics is bootstrapped onto the
/// Prometheus registry, and a run's metrics appear in its text exposition.
@Suite struct HostMetricsTests {
    @Test func aRunsMetricsAppearInThePrometheusExposition() async throws {
        HostMetrics.bootstrap()
        HostMetrics.bootstrap()   // a second call does nothing
        // The harness's store and engine are made after the bootstrap.
        let harness = try Harness()
        let state = try await harness.run("""
            name: measured
            steps:
              - { id: a, uses: channel.null }
              - { id: b, uses: noop, needs: [a] }
            """)
        #expect(state.status == .succeeded)
        let text = HostMetrics.exposition()
        for line in [
            #"trellis_run_events_total{type="step_succeeded"}"#,
            #"trellis_run_events_total{type="run_finished"}"#,
            #"trellis_runs_finished_total{status="succeeded"}"#,
            "trellis_runs_active",
            "trellis_store_appends_total",
            "trellis_store_append_events_total",
            "trellis_store_append_seconds_bucket",
        ] {
            #expect(text.contains(line), "\(line) is exported")
        }
        #expect(text.contains("# TYPE trellis_store_append_seconds histogram"))
        #expect(text.contains("# TYPE trellis_run_events_total counter"))
        // The counts are real: at least this run's two step_succeeded events.
        let succeeded = text.split(separator: "\n").first { $0.hasPrefix(#"trellis_run_events_total{type="step_succeeded"}"#) }
        let count = succeeded.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        #expect(count >= 2)
    }

    @Test func deliveriesAreCountedByChannelAndState() async throws {
        HostMetrics.bootstrap()
        let harness = try NotificationHarness(notifications: NotificationServiceTests.basics) { _ in .init(status: 204) }
        let ids = try harness.service.send(NotificationRequest(
            recipients: ["ops"], template: "deploy-failed", variables: ["service": "web", "step": "migrate", "error": "x"]))
        let id = try #require(ids.first)
        try await eventually { try harness.states(id) == [.delivered] }
        #expect(HostMetrics.exposition().contains(#"trellis_notification_deliveries_total{channel="channel.webhook",state="delivered"}"#))
    }
}
