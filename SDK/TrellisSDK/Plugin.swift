import TrellisJSON

/// What every Trellis plugin is, whatever its kind.
///
/// A plugin is a type with static metadata and an initializer that takes its
/// configuration (decoded from the JSON the deployment config gives it; keys
/// are matched as written, so declare `CodingKeys` for snake_case names) and the host's services.
/// Adopt one of the kind protocols — ``ChannelPlugin``, ``ProviderPlugin``,
/// ``RecoveryPlugin``, ``AnalyzerPlugin`` — and export it with one line:
///
/// ```swift
/// @_cdecl("trellis_plugin_entry")
/// public func entry() -> UnsafeRawPointer { exportPlugin(MyChannel.self) }
/// ```
public protocol TrellisPlugin: Sendable {
    /// The configuration this plugin accepts. Describe the same shape as a
    /// JSON Schema in the plugin's manifest: the host validates against the
    /// schema before it loads the library.
    associatedtype Configuration: Decodable = EmptyConfiguration

    /// The plugin id: its kind, a dot, and a name (`channel.stdout`).
    static var id: String { get }
    /// The plugin's semantic version (`1.2.0`).
    static var version: String { get }
    /// One sentence on what the plugin does.
    static var summary: String { get }
    /// True when the host must never call this plugin from two threads at once.
    static var isSingleThreaded: Bool { get }

    init(configuration: Configuration, host: TrellisHost) throws

    /// A cheap liveness probe; throw when the instance cannot serve calls.
    func checkHealth() throws
}

extension TrellisPlugin {
    public static var isSingleThreaded: Bool { false }
    public func checkHealth() throws {}
}

/// The configuration of a plugin that takes none.
public struct EmptyConfiguration: Codable, Sendable, Equatable {
    public init() {}
}
