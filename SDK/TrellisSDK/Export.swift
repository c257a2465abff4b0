import CTrellisABI
import Synchronization
import TrellisJSON

/// The plugin this library exports: its descriptor, interface tables and
/// how to make an instance. One per library (each plugin links its own copy
/// of the SDK, and exports only its entry symbol).
final class ExportedPlugin: @unchecked Sendable {
    let descriptor: UnsafeMutablePointer<trellis_plugin_descriptor_t>
    let interfaces: [String: UnsafeRawPointer]
    let makeInstance: (TrellisHost, UnsafeRawBufferPointer) throws -> InstanceBox
    let validateChannelConfig: ((UnsafeRawBufferPointer) throws -> Void)?

    init<P: TrellisPlugin>(_ type: P.Type, kind: trellis_plugin_kind_t, interfaces: [String: UnsafeRawPointer],
                           validateChannelConfig: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
                           makeInstance: @escaping (TrellisHost, UnsafeRawBufferPointer) throws -> InstanceBox) {
        self.interfaces = interfaces.merging([TRELLIS_INTERFACE_HEALTH_V1: healthTable]) { own, _ in own }
        self.makeInstance = makeInstance
        self.validateChannelConfig = validateChannelConfig
        descriptor = .allocate(capacity: 1)
        descriptor.initialize(to: trellis_plugin_descriptor_t(
            abi: trellis_abi_version_t(major: UInt32(TRELLIS_ABI_MAJOR), minor: UInt32(TRELLIS_ABI_MINOR),
                                       patch: UInt32(TRELLIS_ABI_PATCH)),
            struct_size: UInt32(MemoryLayout<trellis_plugin_descriptor_t>.size),
            id: .permanent(P.id),
            kind: kind,
            version: .permanent(P.version),
            description: .permanent(P.summary),
            flags: P.isSingleThreaded ? UInt64(TRELLIS_PLUGIN_SINGLE_THREADED) : 0,
            get_interface: { _, id in exportedPlugin.withLock { $0?.interfaces[id.string] } },
            create: { _, host, config, out, reply in
                let reply = Reply(raw: reply)
                guard let host, let out else { return reply.fail(.permanent("create called with NULL arguments")) }
                guard let exported = exportedPlugin.withLock({ $0 }) else {
                    return reply.fail(.permanent("no plugin is exported by this library"))
                }
                return reply.perform("could not create the plugin") {
                    out.pointee = try exported.makeInstance(TrellisHost(raw: host), config.bytes).opaque
                    return nil
                }
            },
            destroy: { _, instance in InstanceBox.release(instance) }
        ))
    }
}

let exportedPlugin = Mutex<ExportedPlugin?>(nil)

func register(_ plugin: @autoclosure () -> ExportedPlugin) -> UnsafeRawPointer {
    exportedPlugin.withLock { current in
        if current == nil { current = plugin() }
        return UnsafeRawPointer(current!.descriptor)
    }
}

func decodeConfiguration<P: TrellisPlugin>(_ type: P.Type, _ bytes: UnsafeRawBufferPointer) throws -> P.Configuration {
    do {
        return try PluginJSON.decode(P.Configuration.self, from: bytes)
    } catch {
        throw PluginError.classify(error, while: "invalid configuration for \(P.id)")
    }
}

nonisolated(unsafe) private let healthTable: UnsafeRawPointer = {
    let table = UnsafeMutablePointer<trellis_health_v1_t>.allocate(capacity: 1)
    table.initialize(to: trellis_health_v1_t(
        struct_size: UInt32(MemoryLayout<trellis_health_v1_t>.size),
        check: { instance, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance) else { return reply.fail(missingInstance) }
            return reply.perform("health check failed") {
                try box.plugin.checkHealth()
                return nil
            }
        }))
    return UnsafeRawPointer(table)
}()

// MARK: - The one-line export, one overload per kind

/// Exports a channel plugin. Call it from the library's entry symbol:
/// `@_cdecl("trellis_plugin_entry") public func entry() -> UnsafeRawPointer { exportPlugin(MyChannel.self) }`
public func exportPlugin<P: ChannelPlugin>(_ type: P.Type) -> UnsafeRawPointer {
    register(ExportedPlugin(
        P.self, kind: trellis_plugin_kind_t(TRELLIS_KIND_CHANNEL),
        interfaces: [TRELLIS_INTERFACE_CHANNEL_V1: channelTable],
        validateChannelConfig: { try P.validate(configuration: decodeConfiguration(P.self, $0)) },
        makeInstance: { host, config in
            let plugin = try P(configuration: decodeConfiguration(P.self, config), host: host)
            return InstanceBox(host: host, plugin: plugin, channel: plugin)
        }))
}

/// Exports a model provider plugin.
public func exportPlugin<P: ProviderPlugin>(_ type: P.Type) -> UnsafeRawPointer {
    register(ExportedPlugin(
        P.self, kind: trellis_plugin_kind_t(TRELLIS_KIND_PROVIDER),
        interfaces: [TRELLIS_INTERFACE_PROVIDER_V1: providerTable],
        makeInstance: { host, config in
            let plugin = try P(configuration: decodeConfiguration(P.self, config), host: host)
            return InstanceBox(host: host, plugin: plugin, provider: plugin)
        }))
}

/// Exports a recovery strategy plugin.
public func exportPlugin<P: RecoveryPlugin>(_ type: P.Type) -> UnsafeRawPointer {
    register(ExportedPlugin(
        P.self, kind: trellis_plugin_kind_t(TRELLIS_KIND_RECOVERY),
        interfaces: [TRELLIS_INTERFACE_RECOVERY_V1: recoveryTable],
        makeInstance: { host, config in
            let plugin = try P(configuration: decodeConfiguration(P.self, config), host: host)
            return InstanceBox(host: host, plugin: plugin, recovery: TypedRecoveryBridge(plugin))
        }))
}

/// Exports a search analyzer plugin.
public func exportPlugin<P: AnalyzerPlugin>(_ type: P.Type) -> UnsafeRawPointer {
    register(ExportedPlugin(
        P.self, kind: trellis_plugin_kind_t(TRELLIS_KIND_ANALYZER),
        interfaces: [TRELLIS_INTERFACE_ANALYZER_V1: P.isTokenFilter ? filterAnalyzerTable : analyzerTable],
        makeInstance: { host, config in
            let plugin = try P(configuration: decodeConfiguration(P.self, config), host: host)
            return InstanceBox(host: host, plugin: plugin, analyzer: plugin)
        }))
}
