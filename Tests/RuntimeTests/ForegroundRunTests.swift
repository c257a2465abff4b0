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
    @Test(.timeLimit(.minutes(5)))
    func aStopAskedBeforeTheGroupStartsDrainsTheRun() async throws {
        let harness = try Harness { $0.drainGraceSeconds = 0.3 }
        // The step is long, so that however late a busy machine starts the
        // group's tasks, only a drain can end the run before it does.
        let (workflow, source) = try harness.workflow("name: long\nsteps: [{ id: a, uses: sleep, with: { duration: 10m } }]\n")
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
        #expect(Date().timeIntervalSince(started) < 240, "it drained instead of waiting out the 10-minute step")
    }
}
