import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the history indexer's catch-up every `interval` on a thread of its
/// own (indexing reads the store and calls analyzers: never on Swift's
/// cooperative threads), until the service group shuts down.
public struct HistoryIndexingService: Service {
    let indexer: HistoryIndexer
    let interval: Double
    let logger: Logger

    public init(indexer: HistoryIndexer, interval: Double = 2, logger: Logger) {
        self.indexer = indexer
        self.interval = interval
        self.logger = logger
    }

    final class Control: Sendable {
        let wake = DispatchSemaphore(value: 0)
        let stopping = Mutex(false)
        var stopped: Bool { stopping.withLock { $0 } }
        func stop() {
            stopping.withLock { $0 = true }
            wake.signal()
        }
    }

    public func run() async throws {
        let control = Control()
        let indexer = indexer, interval = interval, logger = logger
        async let worker: Void = withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var failing = false
                while !control.stopped {
                    do {
                        try indexer.catchUp()
                        if failing { logger.info("history indexing works again") }
                        failing = false
                    } catch {
                        if !failing {
                            logger.warning("history indexing failed; runs go on, and search sees them once it works",
                                           metadata: ["error": "\(error)"])
                        }
                        failing = true
                    }
                    _ = control.wake.wait(timeout: .now() + interval)
                }
                finished.resume()
            }
            thread.name = "trellis-history-index"
            thread.start()
        }
        try? await gracefulShutdown()
        control.stop()
        await worker
    }
}
