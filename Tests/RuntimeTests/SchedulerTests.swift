import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisStore
@testable import TrellisRuntime

@Suite struct TriggerPlannerTests {
    func trigger(_ kind: TriggerSpec.Kind, _ catchUp: TriggerSpec.CatchUp = .skip) -> TriggerSpec {
        TriggerSpec(kind: kind, catchUp: catchUp)
    }

    @Test func aNewTriggerStartsCountingFromNow() {
        let result = TriggerPlanner.due(trigger(.interval(seconds: 60)), lastFire: nil, now: 1000)
        #expect(result.fires == [])
        #expect(result.lastFire == 1000)
    }

    @Test func catchUpPolicies() {
        let hourly = TriggerSpec.Kind.interval(seconds: 3600)
        // Down for 5 h 30 min: five fire times were missed, the last 30 min ago.
        let now = 1000 + 5 * 3600 + 1800.0
        #expect(TriggerPlanner.due(trigger(hourly, .skip), lastFire: 1000, now: now).fires == [])
        #expect(TriggerPlanner.due(trigger(hourly, .latest), lastFire: 1000, now: now).fires == [1000 + 5 * 3600])
        #expect(TriggerPlanner.due(trigger(hourly, .all), lastFire: 1000, now: now).fires.count == 5)
        #expect(TriggerPlanner.due(trigger(hourly, .skip), lastFire: 1000, now: now).lastFire == Double(1000 + 5 * 3600),
                "skipped fires are not considered again")
        // On time, skip still runs the fire that is due now.
        #expect(TriggerPlanner.due(trigger(hourly, .skip), lastFire: 1000, now: 1000 + 3600 + 5).fires == [1000 + 3600])
    }

    @Test func cronTriggersUseTheirTimeZone() throws {
        let daily = TriggerSpec(kind: .cron(try CronExpression("0 9 * * *"), timeZone: "Asia/Tokyo"))
        // 2026-07-01T00:00:00Z is 09:00 in Tokyo.
        let nine = ISO8601DateFormatter().date(from: "2026-07-01T00:00:00Z")!.timeIntervalSince1970
        #expect(TriggerPlanner.next(daily, after: nine - 10) == nine)
        #expect(TriggerPlanner.due(daily, lastFire: nine - 86400, now: nine + 1).fires == [nine])
    }

    @Test func oneTimeTriggersFireOnce() {
        let once = trigger(.once(at: 5000), .skip)
        #expect(TriggerPlanner.due(once, lastFire: nil, now: 4000).fires == [])
        #expect(TriggerPlanner.due(once, lastFire: nil, now: 5010).fires == [5000])
        #expect(TriggerPlanner.due(once, lastFire: 5000, now: 6000).fires == [])
        #expect(TriggerPlanner.due(once, lastFire: nil, now: 9000).fires == [], "missed long ago and skipped")
        #expect(TriggerPlanner.due(trigger(.once(at: 5000), .latest), lastFire: nil, now: 9000).fires == [5000])
    }
}

@Suite struct SchedulerTests {
    func scheduler(_ harness: Harness, _ clock: TestClock, _ yamls: [String]) throws -> Scheduler {
        let scheduler = Scheduler(engine: harness.engine, store: harness.store, logger: harness.logger, now: { clock.now })
        scheduler.setWorkflows(try yamls.map { yaml in
            let (workflow, source) = try harness.workflow(yaml)
            return Scheduler.Entry(workflow: workflow, source: source)
        })
        return scheduler
    }

    func runs(_ harness: Harness, _ workflow: String) throws -> [RunRecord] {
        try harness.store.runRecords(limit: 100, status: nil).filter { $0.workflow == workflow }
    }

    @Test func intervalTriggersFireAsTheClockMoves() async throws {
        let harness = try Harness()
        let clock = TestClock()
        let scheduler = try scheduler(harness, clock, ["""
            name: every-minute
            triggers: [{ interval: 1m }]
            steps: [{ id: a, uses: noop }]
            """])
        #expect(scheduler.tick() == [], "the first look only starts the count")
        clock.advance(30)
        #expect(scheduler.tick() == [])
        clock.advance(31)
        let started = scheduler.tick()
        #expect(started.count == 1)
        #expect(scheduler.tick() == [], "a fire time runs once")
        let state = await harness.engine.wait(for: started[0])
        #expect(state.status == .succeeded)
        #expect(state.trigger == "interval 60.0s")
    }

    @Test func overlapSkipQueueAndAllow() async throws {
        let harness = try Harness()
        let clock = TestClock()
        let yaml = { (name: String, overlap: String) in """
            name: \(name)
            triggers: [{ interval: 10s, overlap: \(overlap) }]
            steps: [{ id: slow, uses: sleep, with: { duration: 1s } }]
            """ }
        let scheduler = try scheduler(harness, clock, [yaml("skipper", "skip"), yaml("queuer", "queue"), yaml("allower", "allow")])
        scheduler.tick()
        clock.advance(10)
        scheduler.tick()
        clock.advance(10)
        scheduler.tick()   // each workflow's first run is still sleeping
        #expect(try runs(harness, "skipper").count == 1)
        #expect(try runs(harness, "queuer").count == 1)
        #expect(try runs(harness, "allower").count == 2)
        // When the queued workflow's run finishes, the waiting fire starts.
        try await eventually { try runs(harness, "queuer").count >= 2 }
        #expect(try runs(harness, "queuer").count == 2)
    }

    @Test func afterTriggersFollowTheUpstreamOutcome() async throws {
        let harness = try Harness()
        let clock = TestClock()
        let scheduler = try scheduler(harness, clock, [
            "name: upstream\nsteps: [{ id: a, uses: fixture.flaky, with: { fail_times: \"${{ inputs.fail }}\" } }]\ninputs: { fail: { type: integer, default: 0 } }",
            "name: on-success\ntriggers: [{ after: upstream, on: success }]\nsteps: [{ id: a, uses: noop }]",
            "name: on-failure\ntriggers: [{ after: upstream, on: failure }]\nsteps: [{ id: a, uses: noop }]",
            "name: on-any\ntriggers: [{ after: upstream, on: any }]\nsteps: [{ id: a, uses: noop }]",
        ])
        let ok = try #require(try scheduler.trigger(workflow: "upstream", inputs: [:]))
        _ = await harness.engine.wait(for: ok)
        let failing = try #require(try scheduler.trigger(workflow: "upstream", inputs: ["fail": 1]))
        _ = await harness.engine.wait(for: failing)
        // The failing run fires on-failure and on-any, in either order.
        try await eventually { try runs(harness, "on-any").count >= 2 && runs(harness, "on-failure").count >= 1 }
        #expect(try runs(harness, "on-success").count == 1)
        #expect(try runs(harness, "on-failure").count == 1)
        #expect(try runs(harness, "on-any").count == 2)
        #expect(try runs(harness, "on-success").first?.trigger == "after upstream (success)")
    }

    @Test func maxActiveRunsQueuesTheRest() async throws {
        let harness = try Harness()
        let clock = TestClock()
        let scheduler = try scheduler(harness, clock, ["""
            name: limited
            concurrency: { max_active_runs: 1 }
            triggers: [{ interval: 1s, overlap: allow }]
            steps: [{ id: slow, uses: sleep, with: { duration: 1s } }]
            """])
        scheduler.tick()
        clock.advance(1)
        scheduler.tick()
        clock.advance(1)
        scheduler.tick()
        #expect(try runs(harness, "limited").count == 1)
        try await eventually { try runs(harness, "limited").count >= 2 }
        #expect(try runs(harness, "limited").count == 2)
    }

    @Test func triggerStateSurvivesARestart() throws {
        let harness = try Harness()
        let clock = TestClock()
        let yaml = "name: hourly\ntriggers: [{ interval: 1h, catch_up: all, overlap: allow }]\nsteps: [{ id: a, uses: noop }]"
        var scheduler = try scheduler(harness, clock, [yaml])
        scheduler.tick()
        // The host is down for three hours; a new scheduler catches up all three.
        clock.advance(3 * 3600 + 5)
        harness.restart()
        scheduler = try self.scheduler(harness, clock, [yaml])
        #expect(scheduler.tick().count == 3)
    }
}
