import Logging
import TrellisPluginHost
import TrellisStore

/// Keeps plugins' `trellis.state/1` values in the run store, one namespace
/// per plugin, so a breaker's state survives a host restart.
public struct StorePluginState: PluginStateStore {
    let store: any KeyValueStore
    let logger: Logger

    public init(store: any KeyValueStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func load(plugin: String, key: String) -> [UInt8]? {
        do {
            return try store.value(namespace: "plugin:\(plugin)", key: key)
        } catch {
            logger.warning("plugin state unreadable", metadata: ["plugin.id": "\(plugin)", "error": "\(error)"])
            return nil
        }
    }

    public func save(plugin: String, key: String, value: [UInt8]) -> Bool {
        do {
            try store.setValue(value, namespace: "plugin:\(plugin)", key: key)
            return true
        } catch {
            logger.warning("plugin state not kept", metadata: ["plugin.id": "\(plugin)", "error": "\(error)"])
            return false
        }
    }
}
