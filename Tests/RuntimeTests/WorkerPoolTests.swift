import Foundation
import Synchronization
import Testing
@testable import TrellisRuntime

@Suite struct WorkerPoolTests {
    @Test func urgentJobsGoAheadOfTheWaitingOnes() throws {
        let pool = WorkerPool(threads: 1, name: "test-pool")
        defer { pool.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        let order = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        // The only thread is busy until the gate opens; the others wait.
        let busy = DispatchSemaphore(value: 0)
        pool.submit { busy.signal(); gate.wait() }
        busy.wait()
        for name in ["a", "b"] { pool.submit { order.withLock { $0.append(name) } } }
        pool.submit(urgent: true) { order.withLock { $0.append("urgent 1") } }
        pool.submit(urgent: true) { order.withLock { $0.append("urgent 2") } }
        pool.submit { done.signal() }
        #expect(pool.waitingJobs == 5)
        gate.signal()
        done.wait()
        // Urgent ones first, in the order they came; then the rest.
        #expect(order.withLock { $0 } == ["urgent 1", "urgent 2", "a", "b"])
        #expect(pool.waitingJobs == 0)
    }
}
