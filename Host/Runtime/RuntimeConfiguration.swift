import TrellisCore

/// How the runner runs steps.
public struct RuntimeConfiguration: Sendable {
    /// Steps running at once across all runs (and worker threads).
    public var maxConcurrentSteps = 16
    /// Steps running at once per plugin id; plugins not listed are limited
    /// only by `maxConcurrentSteps`.
    public var pluginPoolSizes: [String: Int] = [:]
    /// How long in-flight steps may finish after a drain starts.
    public var drainGraceSeconds: Double = 10
    /// How long a run's lease lasts without renewal (renewed every third of
    /// it). A host that stops renewing, on another machine, is taken over
    /// after this long; a dead process on this machine at once.
    public var leaseSeconds: Double = 15
    /// Whether `uses: exec` may run commands.
    public var allowExec = false
    /// Secrets for `${{ secrets.NAME }}`, resolved at call time.
    public var secrets: [String: String] = [:]
    /// Recovery pipelines for steps that declare none, by plugin kind.
    public var recoveryDefaults: [String: [RecoveryEntry]] = [:]

    public init() {}
}
