import CTrellisABI
import TrellisJSON

/// The Swift object behind a `trellis_instance_t *`: the plugin value, the
/// host's services, and the kind-specific bridge the interface tables call.
final class InstanceBox: @unchecked Sendable {
    let host: TrellisHost
    let plugin: any TrellisPlugin
    let channel: (any ChannelPlugin)?
    let provider: (any ProviderPlugin)?
    let recovery: (any RecoveryBridge)?
    let analyzer: (any AnalyzerPlugin)?

    init(host: TrellisHost, plugin: any TrellisPlugin, channel: (any ChannelPlugin)? = nil,
         provider: (any ProviderPlugin)? = nil, recovery: (any RecoveryBridge)? = nil,
         analyzer: (any AnalyzerPlugin)? = nil) {
        self.host = host
        self.plugin = plugin
        self.channel = channel
        self.provider = provider
        self.recovery = recovery
        self.analyzer = analyzer
    }

    @inline(__always)
    static func from(_ instance: OpaquePointer?) -> InstanceBox? {
        guard let instance else { return nil }
        return Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).takeUnretainedValue()
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }

    static func release(_ instance: OpaquePointer?) {
        guard let instance else { return }
        Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).release()
    }
}

let missingInstance = PluginError.permanent("the host passed a NULL instance")
