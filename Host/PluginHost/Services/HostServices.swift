import CTrellisABI
import Foundation
import Logging
import Metrics
import Synchronization
import TrellisJSON

/// The host services one plugin instance receives: its `trellis_host_t`
/// table and what stands behind it (its logger, granted secrets, metrics).
/// Lives exactly as long as the instance.
final class HostServices: @unchecked Sendable {
    let pluginID: String
    let logger: Logger
    let clock: @Sendable () -> Double
    let state: (any PluginStateStore)?
    /// HTTP and mail, with the plugin's egress allow-list (nil: not offered).
    let network: PluginNetwork?
    private let secrets: [String: String]
    private let metrics = Mutex<[String: AnyObject]>([:])
    /// The table handed to the plugin; its host_data points back here.
    let table: UnsafeMutablePointer<trellis_host_t>

    init(pluginID: String, logger: Logger, secrets: [String: String], clock: @escaping @Sendable () -> Double,
         state: (any PluginStateStore)?, network: PluginNetwork? = nil) {
        self.pluginID = pluginID
        self.network = network
        self.clock = clock
        self.state = state
        var logger = logger
        logger[metadataKey: "plugin.id"] = .string(pluginID)
        self.logger = logger
        self.secrets = secrets
        table = .allocate(capacity: 1)
        table.initialize(to: trellis_host_t(
            struct_size: UInt32(MemoryLayout<trellis_host_t>.size),
            abi: trellis_abi_version_t(major: ABIVersion.host.major, minor: ABIVersion.host.minor,
                                       patch: ABIVersion.host.patch),
            host_version: hostVersionString,
            host_data: nil,
            get_service: { host, id in
                guard let services = HostServices.from(host) else { return nil }
                return services.service(id.string)
            }))
        table.pointee.host_data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        table.deinitialize(count: 1)
        table.deallocate()
    }

    static func from(_ host: UnsafePointer<trellis_host_t>?) -> HostServices? {
        guard let data = host?.pointee.host_data else { return nil }
        return Unmanaged<HostServices>.fromOpaque(data).takeUnretainedValue()
    }

    /// The host's answer to `get_service`: NULL for a service this host does
    /// not offer to this plugin, as the negotiation rule says.
    func service(_ id: String) -> UnsafeRawPointer? {
        switch id {
        case TRELLIS_SERVICE_LOG: logServiceTable
        case TRELLIS_SERVICE_METRICS: metricsServiceTable
        case TRELLIS_SERVICE_SECRETS: secretsServiceTable
        case TRELLIS_SERVICE_CANCEL: cancelServiceTable
        case TRELLIS_SERVICE_CLOCK: clockServiceTable
        case TRELLIS_SERVICE_STATE: state == nil ? nil : stateServiceTable
        case TRELLIS_SERVICE_HTTP: network == nil ? nil : httpServiceTable
        case TRELLIS_SERVICE_MAIL: network == nil ? nil : mailServiceTable
        default: nil
        }
    }

    func secret(_ name: String) -> String? { secrets[name] }

    func metric<M: AnyObject>(_ name: String, make: (String) -> M) -> M {
        let label = "trellis_plugin_" + (pluginID + "_" + name).map { $0.isLetter || $0.isNumber ? $0 : "_" }
            .reduce(into: "") { $0.append($1) }
        return metrics.withLock { cache in
            if let existing = cache[label] as? M { return existing }
            let made = make(label)
            cache[label] = made
            return made
        }
    }
}

nonisolated(unsafe) let hostVersionString = trellis_str_t.permanent(TrellisVersion.current)

/// The version of this Trellis build.
public enum TrellisVersion {
    public static let current = "0.1.0"
}

/// A service table in static storage (tables live as long as the process).
func table<T>(_ value: T) -> UnsafeRawPointer {
    let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
    pointer.initialize(to: value)
    return UnsafeRawPointer(pointer)
}

nonisolated(unsafe) private let logServiceTable = table(trellis_log_service_t(
    struct_size: UInt32(MemoryLayout<trellis_log_service_t>.size),
    log: { host, level, message in
        guard let services = HostServices.from(host) else { return }
        let swiftLevel: Logger.Level = switch level {
        case trellis_log_level_t(TRELLIS_LOG_TRACE): .trace
        case trellis_log_level_t(TRELLIS_LOG_DEBUG): .debug
        case trellis_log_level_t(TRELLIS_LOG_INFO): .info
        case trellis_log_level_t(TRELLIS_LOG_WARNING): .warning
        default: .error
        }
        services.logger.log(level: swiftLevel, "\(message.string)")
    }))

nonisolated(unsafe) private let metricsServiceTable = table(trellis_metrics_service_t(
    struct_size: UInt32(MemoryLayout<trellis_metrics_service_t>.size),
    counter_add: { host, name, delta in
        guard let services = HostServices.from(host) else { return }
        services.metric(name.string) { Counter(label: $0) }.increment(by: delta)
    },
    gauge_set: { host, name, value in
        guard let services = HostServices.from(host) else { return }
        services.metric(name.string) { Gauge(label: $0) }.record(value)
    },
    histogram_record: { host, name, value in
        guard let services = HostServices.from(host) else { return }
        services.metric(name.string) { Recorder(label: $0, aggregate: true) }.record(value)
    }))

nonisolated(unsafe) private let secretsServiceTable = table(trellis_secrets_service_t(
    struct_size: UInt32(MemoryLayout<trellis_secrets_service_t>.size),
    lookup: { host, name, user, receive in
        guard let services = HostServices.from(host), let receive,
              let value = services.secret(name.string) else { return trellis_status_t(TRELLIS_ERR_CONFIG) }
        withABIString(value) { receive(user, $0) }
        return trellis_status_t(TRELLIS_OK)
    }))

nonisolated(unsafe) private let cancelServiceTable = table(trellis_cancel_service_t(
    struct_size: UInt32(MemoryLayout<trellis_cancel_service_t>.size),
    is_cancelled: { _, context in
        guard let context else { return 0 }
        if let token = context.pointee.host_token,
           Unmanaged<CancellationToken>.fromOpaque(token).takeUnretainedValue().isCancelled { return 1 }
        let deadline = context.pointee.deadline_unix_ms
        return deadline > 0 && currentUnixMilliseconds() >= deadline ? 1 : 0
    },
    remaining_ms: { _, context in
        guard let context, context.pointee.deadline_unix_ms > 0 else { return Int64.max }
        return max(0, context.pointee.deadline_unix_ms - currentUnixMilliseconds())
    }))

nonisolated(unsafe) private let clockServiceTable = table(trellis_clock_service_t(
    struct_size: UInt32(MemoryLayout<trellis_clock_service_t>.size),
    now_unix_ms: { host in
        guard let services = HostServices.from(host) else { return currentUnixMilliseconds() }
        return Int64((services.clock() * 1000).rounded())
    }))

nonisolated(unsafe) private let stateServiceTable = table(trellis_state_service_t(
    struct_size: UInt32(MemoryLayout<trellis_state_service_t>.size),
    load: { host, key, user, receive in
        guard let services = HostServices.from(host), let receive,
              let value = services.state?.load(plugin: services.pluginID, key: key.string) else {
            return trellis_status_t(TRELLIS_ERR_PERMANENT)
        }
        withABIString(bytes: value) { receive(user, $0) }
        return trellis_status_t(TRELLIS_OK)
    },
    store: { host, key, value in
        guard let services = HostServices.from(host), let state = services.state else {
            return trellis_status_t(TRELLIS_ERR_PERMANENT)
        }
        return state.save(plugin: services.pluginID, key: key.string, value: value.byteArray)
            ? trellis_status_t(TRELLIS_OK) : trellis_status_t(TRELLIS_ERR_RETRYABLE)
    }))

/// Where plugins' small persistent values live (the `trellis.state/1`
/// service). The host's store provides one; without it the service is not
/// offered.
public protocol PluginStateStore: Sendable {
    func load(plugin: String, key: String) -> [UInt8]?
    /// Returns false when the value could not be stored.
    func save(plugin: String, key: String, value: [UInt8]) -> Bool
}
