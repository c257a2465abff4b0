import ServiceLifecycle

/// The model router in the host's service group: requests run on their
/// callers' threads, and its usage ledger writes from a thread of its own.
/// At shutdown, after the engine (whose steps ask it) has stopped, it
/// writes the usage that waits and stops its writer.
extension ModelRouter: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }
}
