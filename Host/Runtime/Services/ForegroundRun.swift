import Logging
import ServiceLifecycle
import Synchronization
import TrellisCore
import TrellisStore

/// One run in the foreground (`trellis run`, `trellis runs resume`): waits
/// for the run to end, then lets the group shut down. On a graceful
/// shutdown (SIGTERM, SIGINT) it starts the engine's drain and still waits,
/// so the wait always returns: the run finishes, is interrupted by the
/// drain within its grace period, or is lost to another process.
///
/// List it after the engine, so that it hears of a shutdown first.
public final class ForegroundRun: Service, Sendable {
    let engine: RunEngine
    public let runID: String
    let onShutdown: @Sendable () -> Void
    /// Whether a stop was asked before the group could hear it (a signal
    /// caught while the process was starting): then the run drains at once.
    let stopAskedEarly: @Sendable () -> Bool
    private let result = Mutex<RunEnd?>(nil)

    public init(engine: RunEngine, runID: String, stopAskedEarly: @escaping @Sendable () -> Bool = { false },
                onShutdown: @escaping @Sendable () -> Void = {}) {
        self.engine = engine
        self.runID = runID
        self.stopAskedEarly = stopAskedEarly
        self.onShutdown = onShutdown
    }

    /// How the run ended (nil until `run()` returns).
    public var end: RunEnd? { result.withLock { $0 } }

    public func run() async throws {
        if stopAskedEarly() {
            onShutdown()
            engine.beginDrain()
        }
        let end = await withGracefulShutdownHandler {
            await engine.end(of: runID)
        } onGracefulShutdown: { [engine, onShutdown] in
            onShutdown()
            engine.beginDrain()
        }
        result.withLock { $0 = end }
    }
}

extension ServiceGroup {
    /// The services of a process that executes runs, in start order (they
    /// stop in reverse): the store's checkpointer, the lease heartbeat,
    /// notifications, the engine, then what drives the engine (a host's
    /// scheduler, or one foreground run, which ends the group when it returns).
    public static func host(engine: RunEngine, notifications: NotificationService?, driver: any Service,
                            checkpointing store: SQLiteStore? = nil, history: HistoryIndexingService? = nil,
                            logger: Logger) -> ServiceGroup {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let store { services.append(.init(service: StoreCheckpointService(store: store))) }
        // It reads the store: it stops before the checkpointer does.
        if let history { services.append(.init(service: history)) }
        // The router's usage ledger stops after the engine, whose steps ask the router.
        if let router = engine.router { services.append(.init(service: router)) }
        services.append(.init(service: LeaseHeartbeat(engine: engine)))
        if let notifications { services.append(.init(service: notifications)) }
        services.append(.init(service: engine))
        services.append(.init(service: driver, successTerminationBehavior: .gracefullyShutdownGroup))
        return ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }
}
