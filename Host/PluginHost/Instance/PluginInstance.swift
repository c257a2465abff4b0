import CTrellisABI
import Foundation
import Logging
import TrellisCore

/// A created plugin instance and the host's typed way of calling it.
///
/// Calls are synchronous and block the calling thread: the runner calls
/// plugins from its own worker threads, never from Swift's cooperative pool.
/// A plugin that declares itself single-threaded is called by one thread at
/// a time.
public final class PluginInstance: @unchecked Sendable {
    public let library: PluginLibrary
    public var info: PluginInfo { library.info }
    package let raw: OpaquePointer
    let services: HostServices
    private let serial: NSLock?
    private let healthTable: UnsafePointer<trellis_health_v1_t>?
    /// The interface table of the plugin's kind, looked up once (calls are
    /// too frequent to ask `get_interface` each time).
    private let kindTable: UnsafeRawPointer?

    /// Creates an instance with `configuration` (JSON). `secrets` are the
    /// resolved secrets the plugin may look up by name.
    /// `name` is the instance's place in the deployment (`provider.openai@eu`;
    /// nil: the plugin's id): its log lines, metrics and kept state go by it.
    public init(library: PluginLibrary, name: String? = nil, configuration: JSONValue = .object([:]),
                secrets: [String: String] = [:], logger: Logger,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                state: (any PluginStateStore)? = nil, network: PluginNetwork? = nil) throws(PluginLoadError) {
        self.library = library
        let services = HostServices(pluginID: name ?? library.info.id, logger: logger, secrets: secrets, clock: clock, state: state,
                                    network: network)
        self.services = services
        serial = library.info.isSingleThreaded ? NSLock() : nil
        healthTable = library.interface(TRELLIS_INTERFACE_HEALTH_V1)?.assumingMemoryBound(to: trellis_health_v1_t.self)
        kindTable = library.interface(library.info.kind.requiredInterface)
        let descriptor = library.descriptor
        var instance: OpaquePointer?
        let (status, reply) = withABIString(bytes: configuration.jsonBytes()) { config in
            withReply { reply in descriptor.pointee.create!(descriptor, services.table, config, &instance, reply) }
        }
        guard status == TRELLIS_OK, let instance else {
            let message = reply.errorMessage ?? (status == TRELLIS_OK ? "create returned no instance" : "create failed without a message")
            throw PluginLoadError(
                .createFailed, path: library.path, pluginID: library.info.id,
                message: "the plugin refused to start (\(PluginCallError.errorClass(of: status).rawValue)): \(message)",
                remedy: status == TRELLIS_ERR_CONFIG ? "Fix the plugin's `config` in the deployment config"
                                                     : "See the plugin's documentation")
        }
        raw = instance
    }

    deinit {
        library.descriptor.pointee.destroy?(library.descriptor, raw)
    }

    /// Runs `body` under the instance's serial lock when it has one.
    @inline(__always)
    func serialized<R>(_ body: () throws -> R) rethrows -> R {
        guard let serial else { return try body() }
        serial.lock()
        defer { serial.unlock() }
        return try body()
    }

    /// Turns a failed status and its reply into a classified error.
    func failure(_ status: trellis_status_t, _ reply: ReplyState) -> PluginCallError {
        PluginCallError(status: status, reply: reply, pluginID: info.id)
    }

    /// Parses a call's JSON output.
    func parseOutput(_ reply: ReplyState) throws(PluginCallError) -> JSONValue {
        guard let bytes = reply.output else { return .null }
        do {
            return try JSONValue(json: bytes)
        } catch {
            throw PluginCallError(.permanent, "the plugin replied with invalid JSON: \(error)", pluginID: info.id)
        }
    }

    /// The interface table of `kind`, when this plugin is of that kind.
    func table<Table>(_ kind: PluginKind, as type: Table.Type) -> UnsafePointer<Table>? {
        info.kind == kind ? kindTable?.assumingMemoryBound(to: type) : nil
    }

    /// True when the plugin offers the optional health probe.
    public var hasHealthCheck: Bool { healthTable != nil }

    /// Calls the plugin's health probe; a plugin without one is healthy.
    public func checkHealth() throws(PluginCallError) {
        guard let check = healthTable?.pointee.check else { return }
        let raw = self.raw
        let (status, reply) = serialized { withReply { check(raw, $0) } }
        if status != TRELLIS_OK { throw failure(status, reply) }
    }
}
