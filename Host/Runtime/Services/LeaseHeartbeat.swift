import ServiceLifecycle

/// Renews the leases of the runs this process executes, every third of the
/// lease's length, until the service group shuts down. List it first in
/// the group, so that it stops last: the engine's drain still renews.
public struct LeaseHeartbeat: Service {
    let engine: RunEngine

    public init(engine: RunEngine) {
        self.engine = engine
    }

    public func run() async throws {
        let interval = Duration.milliseconds(Int64(max(0.05, engine.owner.leaseSeconds / 3) * 1000))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            engine.renewLeases()
        }
    }
}
