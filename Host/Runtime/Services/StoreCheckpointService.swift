import ServiceLifecycle
import TrellisStore

/// The store's WAL checkpointer in the host's service group: its thread
/// runs from the store's opening; at shutdown, after every service that
/// writes has stopped, it finishes its pass and stops.
public struct StoreCheckpointService: Service {
    let store: SQLiteStore

    public init(store: SQLiteStore) {
        self.store = store
    }

    public func run() async throws {
        try? await gracefulShutdown()
        store.stopCheckpointing()
    }
}
