import ServiceLifecycle

/// The notification service in a service group: until the group shuts
/// down; then an owner stops after the deliveries in flight, and a
/// transient one (a foreground run's) first delivers what is due.
extension NotificationService: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        switch mode {
        case .owner: stop()
        case .transient: finish()
        }
    }
}
