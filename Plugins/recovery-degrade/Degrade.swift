import TrellisSDK

/// On failure, completes the step anyway with a declared default output and
/// a quality score in 0...1, which downstream steps can read
/// (`${{ steps.x.quality }}`) to decide what to do with a partial result.
struct Degrade: RecoveryPlugin {
    struct Policy: Decodable, Sendable {
        var output: JSON
        var quality: Double?
        /// Error classes that degrade; default: all.
        var on: [String]?
    }

    static let id = "recovery.degrade"
    static let version = "1.0.0"
    static let summary = "Completes a failed step with a default output and a quality score."

    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
        if let classes = policy.on, !classes.contains(failure.errorClass.description) { return .pass }
        let quality = policy.quality ?? 0
        guard (0...1).contains(quality) else { throw PluginError.config("quality must be between 0 and 1, not \(quality)") }
        return .degrade(output: policy.output, quality: quality)
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(Degrade.self) }
