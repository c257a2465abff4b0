import Foundation
import Synchronization
import Testing
import TrellisCore
@testable import TrellisRuntime

/// The one loop type that owns state on its thread (the run engine and the
/// notification service are both built on it).
@Suite struct OwnerLoopTests {
    /// Collects what its turns saw, on the loop thread.
    final class Collector: OwnerLoopHandler, @unchecked Sendable {
        typealias Input = (sender: Int, number: Int)
        var loop: OwnerLoop<Collector>!
        var seen: [[Int]] = Array(repeating: [], count: 4)
        var turns = 0
        var offLoopTurns = 0

        func turn(_ inputs: [Input]) {
            if !loop.isOnLoop { offLoopTurns += 1 }
            turns += 1
            for input in inputs { seen[input.sender].append(input.number) }
        }

        func park(stopping: Bool) -> OwnerLoop<Collector>.Park { .wait(seconds: nil) }
    }

    @Test func inputsFromManyThreadsAllArriveInOrderOnTheLoopThread() {
        let collector = Collector()
        collector.loop = OwnerLoop(name: "test-loop", handler: collector)
        collector.loop.start()
        #expect(!collector.loop.isOnLoop, "the test's thread is not the loop's")
        DispatchQueue.concurrentPerform(iterations: 4) { sender in
            for number in 0..<2_000 { collector.loop.send((sender, number)) }
        }
        collector.loop.stop()
        // After stop() the loop thread has ended: its state may be read here.
        for sender in 0..<4 { #expect(collector.seen[sender] == Array(0..<2_000), "sender \(sender)'s inputs, in order") }
        #expect(collector.offLoopTurns == 0)
        #expect(collector.turns > 0)
    }

    /// A handler that has a turn due at once, and whose turn touches its
    /// loop property: the loop must not run before that property is set
    /// (the engine and the notification service crashed on it under load).
    final class Eager: OwnerLoopHandler, @unchecked Sendable {
        var loop: OwnerLoop<Eager>!
        var turns = 0
        let turned = DispatchSemaphore(value: 0)
        func turn(_ inputs: [Int]) {
            loop.preconditionOnLoop()
            turns += 1
            turned.signal()
        }
        func park(stopping: Bool) -> OwnerLoop<Eager>.Park { turns == 0 ? .turnNow : .wait(seconds: nil) }
    }

    @Test func theLoopRunsOnlyOnceStarted() {
        let eager = Eager()
        let loop = OwnerLoop(name: "test-eager", handler: eager)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(eager.turns == 0, "no turn before start()")
        eager.loop = loop
        loop.start()
        #expect(eager.turned.wait(timeout: .now() + 10) == .success, "its due turn came once started")
        loop.stop()
        #expect(eager.turns == 1)
    }

    /// Touching loop-owned state from another thread traps (in its own process).
    @Test func touchingOwnedStateFromAnotherThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            let collector = Collector()
            collector.loop = OwnerLoop(name: "test-loop", handler: collector)
            collector.loop.start()
            collector.loop.preconditionOnLoop()
        }
    }

    /// The engine's and the notification service's observers run on their loop threads.
    @Test func theEngineRunsItsTurnsOnItsLoop() async throws {
        let harness = try Harness()
        let engine = harness.engine
        let offLoop = Atomic<Int>(0)
        engine.observe { _, _, _ in if !engine.loop.isOnLoop { offLoop.add(1, ordering: .relaxed) } }
        let state = try await harness.run("name: on-loop\nsteps:\n  - { id: a, uses: noop }\n  - { id: b, uses: channel.null, needs: [a] }\n")
        #expect(state.status == .succeeded)
        #expect(offLoop.load(ordering: .relaxed) == 0)
    }
}
