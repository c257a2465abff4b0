import Foundation
import Logging
import ServiceLifecycle
import Testing
import TrellisCore
@testable import TrellisRuntime

/// A foreground run in the host's service group.
@Suite struct ForegroundRunTests {
    /// A stop asked before the group could hear it (a signal caught while
    /// the process was starting) drains the run at once: the group ends
    /// with the run interrupted, within the drain grace.
    @Test(.timeLimit(.minutes(1)))
    func aStopAskedBeforeTheGroupStartsDrainsTheRun() async throws {
        let harness = try Harness { $0.drainGraceSeconds = 0.3 }
        let (workflow, source) = try harness.workflow("name: long\nsteps: [{ id: a, uses: sleep, with: { duration: 30s } }]\n")
        let id = try harness.engine.start(workflow: workflow, source: source)
        let foreground = ForegroundRun(engine: harness.engine, runID: id, stopAskedEarly: { true })
        let group = ServiceGroup.host(engine: harness.engine, notifications: nil, driver: foreground, logger: harness.logger)
        let started = Date()
        try await group.run()
        guard case .interrupted(let state) = foreground.end else {
            Issue.record("the run was not interrupted: \(String(describing: foreground.end))")
            return
        }
        #expect(state.status == .interrupted)
        // Under a busy suite the group's tasks may start late; the run's own step would take 30 s.
        #expect(Date().timeIntervalSince(started) < 25, "it drained instead of waiting 30 s")
    }
}
