import CTrellisABI

/// The four plugin kinds and the interface each must offer.
public enum PluginKind: String, Sendable, Codable, CaseIterable {
    case channel, provider, recovery, analyzer

    init?(abi: trellis_plugin_kind_t) {
        switch abi {
        case trellis_plugin_kind_t(TRELLIS_KIND_CHANNEL): self = .channel
        case trellis_plugin_kind_t(TRELLIS_KIND_PROVIDER): self = .provider
        case trellis_plugin_kind_t(TRELLIS_KIND_RECOVERY): self = .recovery
        case trellis_plugin_kind_t(TRELLIS_KIND_ANALYZER): self = .analyzer
        default: return nil
        }
    }

    /// The interface a plugin of this kind must offer.
    public var requiredInterface: String {
        switch self {
        case .channel: TRELLIS_INTERFACE_CHANNEL_V1
        case .provider: TRELLIS_INTERFACE_PROVIDER_V1
        case .recovery: TRELLIS_INTERFACE_RECOVERY_V1
        case .analyzer: TRELLIS_INTERFACE_ANALYZER_V1
        }
    }
}

/// An ABI version triple.
public struct ABIVersion: Sendable, Hashable, Codable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32
    public var patch: UInt32

    public init(major: UInt32, minor: UInt32, patch: UInt32 = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// The ABI this host implements.
    public static let host = ABIVersion(major: UInt32(TRELLIS_ABI_MAJOR), minor: UInt32(TRELLIS_ABI_MINOR),
                                        patch: UInt32(TRELLIS_ABI_PATCH))

    public var description: String { "\(major).\(minor).\(patch)" }
}

/// What a plugin's descriptor says about it.
public struct PluginInfo: Sendable, Hashable, Codable {
    public var id: String
    public var kind: PluginKind
    public var version: String
    public var summary: String
    public var abi: ABIVersion
    public var isSingleThreaded: Bool
    /// The known interfaces the plugin answers for.
    public var interfaces: [String]
}

/// Every interface id this host knows how to ask for.
let knownInterfaces = [
    TRELLIS_INTERFACE_CHANNEL_V1, TRELLIS_INTERFACE_PROVIDER_V1, TRELLIS_INTERFACE_RECOVERY_V1,
    TRELLIS_INTERFACE_ANALYZER_V1, TRELLIS_INTERFACE_HEALTH_V1,
]
