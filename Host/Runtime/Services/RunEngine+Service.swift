import ServiceLifecycle

/// The engine in a service group: it runs until the group shuts down
/// gracefully, then drains (no new steps; running ones get the grace
/// period, then are recorded as interrupted) and stops its thread.
extension RunEngine: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await drain()
        shutdown()
    }
}
