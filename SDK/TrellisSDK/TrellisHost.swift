import CTrellisABI
#if canImport(Glibc)
import Glibc
#endif
import TrellisJSON

/// The services the host offers a plugin: logging, metrics, secrets and,
/// where the host provides it, HTTP. Obtained once at create time and valid
/// for the instance's whole life.
public struct TrellisHost: @unchecked Sendable {
    public enum LogLevel: Int32, Sendable {
        case trace = 0, debug, info, warning, error
    }

    let raw: UnsafePointer<trellis_host_t>
    let logService: UnsafePointer<trellis_log_service_t>?
    let metricsService: UnsafePointer<trellis_metrics_service_t>?
    let secretsService: UnsafePointer<trellis_secrets_service_t>?
    let cancelService: UnsafePointer<trellis_cancel_service_t>?
    let httpService: UnsafePointer<trellis_http_service_t>?
    let clockService: UnsafePointer<trellis_clock_service_t>?
    let stateService: UnsafePointer<trellis_state_service_t>?
    let mailService: UnsafePointer<trellis_mail_service_t>?

    init(raw: UnsafePointer<trellis_host_t>) {
        self.raw = raw
        func service<T>(_ id: String, _: T.Type) -> UnsafePointer<T>? {
            guard has(\trellis_host_t.get_service, in: raw.pointee.struct_size),
                  let getService = raw.pointee.get_service else { return nil }
            let table = withABIString(id) { getService(raw, $0) }
            return table?.assumingMemoryBound(to: T.self)
        }
        logService = service(TRELLIS_SERVICE_LOG, trellis_log_service_t.self)
        metricsService = service(TRELLIS_SERVICE_METRICS, trellis_metrics_service_t.self)
        secretsService = service(TRELLIS_SERVICE_SECRETS, trellis_secrets_service_t.self)
        cancelService = service(TRELLIS_SERVICE_CANCEL, trellis_cancel_service_t.self)
        httpService = service(TRELLIS_SERVICE_HTTP, trellis_http_service_t.self)
        clockService = service(TRELLIS_SERVICE_CLOCK, trellis_clock_service_t.self)
        stateService = service(TRELLIS_SERVICE_STATE, trellis_state_service_t.self)
        mailService = service(TRELLIS_SERVICE_MAIL, trellis_mail_service_t.self)
    }

    /// The host's time in Unix milliseconds (its test clock, when it runs one).
    public var nowMilliseconds: Int64 {
        if let clockService, let now = clockService.pointee.now_unix_ms { return now(raw) }
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// True when the host keeps state for this plugin across restarts.
    public var keepsState: Bool { stateService != nil }

    /// The value stored under `key`, or nil.
    public func loadState(_ key: String) -> String? {
        guard let stateService, let load = stateService.pointee.load else { return nil }
        final class Box { var value: String? }
        let box = Box()
        _ = withABIString(key) { abiKey in
            load(raw, abiKey, Unmanaged.passUnretained(box).toOpaque()) { user, value in
                Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().value = value.string
            }
        }
        return box.value
    }

    /// Stores `value` under `key`; false when the host could not keep it.
    @discardableResult
    public func saveState(_ key: String, _ value: String) -> Bool {
        guard let stateService, let store = stateService.pointee.store else { return false }
        return withABIString(key) { abiKey in withABIString(value) { store(raw, abiKey, $0) } } == TRELLIS_OK
    }

    /// The host's ABI version and its own version string.
    public var abiVersion: (major: UInt32, minor: UInt32, patch: UInt32) {
        (raw.pointee.abi.major, raw.pointee.abi.minor, raw.pointee.abi.patch)
    }
    public var hostVersion: String { raw.pointee.host_version.string }

    /// Writes to the host's log, tagged with this plugin's id.
    public func log(_ level: LogLevel, _ message: String) {
        guard let logService, has(\trellis_log_service_t.log, in: logService.pointee.struct_size),
              let log = logService.pointee.log else { return }
        withABIString(message) { log(raw, level.rawValue, $0) }
    }

    /// Adds `delta` to a counter (the host prefixes the plugin id).
    public func increment(_ counter: String, by delta: Int64 = 1) {
        guard let metricsService, let add = metricsService.pointee.counter_add else { return }
        withABIString(counter) { add(raw, $0, delta) }
    }

    /// Sets a gauge.
    public func gauge(_ name: String, _ value: Double) {
        guard let metricsService, let set = metricsService.pointee.gauge_set else { return }
        withABIString(name) { set(raw, $0, value) }
    }

    /// Records one value in a histogram.
    public func record(_ name: String, _ value: Double) {
        guard let metricsService, let record = metricsService.pointee.histogram_record else { return }
        withABIString(name) { record(raw, $0, value) }
    }

    /// Looks up a secret the deployment config grants this plugin.
    /// Throws a config error when it is unknown or not granted.
    public func secret(_ name: String) throws -> String {
        guard let secretsService, let lookup = secretsService.pointee.lookup else {
            throw PluginError.config("the host offers no secrets service; cannot read secret '\(name)'")
        }
        final class Box { var value: String? }
        let box = Box()
        let status = withABIString(name) { abiName in
            lookup(raw, abiName, Unmanaged.passUnretained(box).toOpaque()) { user, value in
                Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().value = value.string
            }
        }
        guard status == TRELLIS_OK, let value = box.value else {
            throw PluginError.config(
                "secret '\(name)' is not granted to this plugin: add it under the plugin's `secrets:` in the deployment config")
        }
        return value
    }

    /// True when the host offers the HTTP service to this plugin.
    public var offersHTTP: Bool { httpService != nil }

    /// True when the host offers the mail (SMTP) service to this plugin.
    public var offersMail: Bool { mailService != nil }
}

/// The name ``TrellisHost`` had at first (it read like the host's
/// `TrellisPluginHost` module); plugins written against it still build.
@available(*, deprecated, renamed: "TrellisHost")
public typealias PluginHost = TrellisHost
