import Foundation
import Logging
import Synchronization
import TrellisCore

/// The conformance suite a plugin author runs (`trellis plugins check`):
/// each check says what it found and, when it fails, what to do. It opens
/// the library (so a plugin that crashes the check would crash a host).
public struct ConformanceCheck: Sendable {
    public struct Finding: Sendable, Codable {
        public enum Outcome: String, Sendable, Codable { case passed, failed, skipped }
        public var check: String
        public var outcome: Outcome
        public var detail: String

        public init(check: String, outcome: Outcome, detail: String) {
            self.check = check
            self.outcome = outcome
            self.detail = detail
        }
    }

    public var library: String
    public var manifest: PluginManifest?
    public var configuration: JSONValue
    public var secrets: [String: String]
    /// What the kind's call is made with; nil: a sample per kind.
    public var input: JSONValue?
    /// Threads calling at once in the concurrency check.
    public var threads = 8
    public var callsPerThread = 25
    /// How long a call given a passed deadline may take to return.
    public var cancellationBound = 2.0

    public init(library: String, manifest: PluginManifest? = nil, configuration: JSONValue = [:], secrets: [String: String] = [:],
                input: JSONValue? = nil) {
        self.library = library
        self.manifest = manifest
        self.configuration = configuration
        self.secrets = secrets
        self.input = input
    }

    public static let sampleText = "Hello, wörld! Ünïcode text — with emoji 🙂 and numbers 42."

    public func run(logger: Logger) -> [Finding] {
        var findings: [Finding] = []
        func pass(_ check: String, _ detail: String) { findings.append(Finding(check: check, outcome: .passed, detail: detail)) }
        func fail(_ check: String, _ detail: String) { findings.append(Finding(check: check, outcome: .failed, detail: detail)) }
        func skip(_ check: String, _ detail: String) { findings.append(Finding(check: check, outcome: .skipped, detail: detail)) }

        // 1. It loads, and its descriptor is sound.
        let opened: PluginLibrary
        do {
            opened = try PluginLibrary.open(path: library)
        } catch {
            fail("loads", "\(error.description)")
            return findings
        }
        let info = opened.info
        pass("loads", "\(info.id) \(info.version) (\(info.kind.rawValue)), plugin ABI \(info.abi), "
             + (info.isSingleThreaded ? "single-threaded" : "thread-safe") + "; interfaces \(info.interfaces.joined(separator: ", "))")
        if SemanticVersion(info.version) == nil {
            fail("descriptor", "its version '\(info.version)' is not a semantic version (1.2.3); registries and version ranges need one")
        } else if info.summary.isEmpty {
            fail("descriptor", "its description is empty: say in a line what the plugin does")
        } else {
            pass("descriptor", "id, version and description are well formed")
        }

        // 2. The manifest describes this library, and the config fits its schema.
        if let manifest {
            if let problem = PluginManager.disagreement(manifest, info) {
                fail("manifest", "\(problem); fix the manifest (or rebuild the library) so they agree")
            } else {
                pass("manifest", "id, kind, version, ABI and interfaces agree with the library")
            }
            if let schema = try? JSONSchema(manifest.configSchema) {
                let violations = schema.validate(configuration)
                if violations.isEmpty {
                    pass("config", "the config given matches the manifest's config_schema")
                } else {
                    fail("config", "the config given does not match config_schema: "
                         + violations.map(\.description).joined(separator: "; ") + "; pass one that does with --config")
                }
            } else {
                fail("config", "the manifest's config_schema is not a usable JSON Schema")
            }
        } else {
            skip("manifest", "no manifest given (--manifest), none in the registry for \(info.id)")
        }

        // 3. Instances are created and destroyed in pairs, repeatedly.
        let instance: PluginInstance
        do {
            for _ in 0..<20 {
                _ = try PluginInstance(library: opened, configuration: configuration, secrets: secrets, logger: logger)
            }
            instance = try PluginInstance(library: opened, configuration: configuration, secrets: secrets, logger: logger)
            pass("create and destroy", "21 instances created and destroyed")
        } catch {
            fail("create and destroy", "create failed: \(error.reason); if the plugin needs config or secrets, pass them "
                 + "with --config and --secret")
            return findings
        }
        if instance.hasHealthCheck {
            do {
                try instance.checkHealth()
                pass("health", "trellis.health/1 answers")
            } catch {
                fail("health", "its health probe fails: \(error.message)")
            }
        }

        // 4. Its kind's call: the answer's shape, or a classified error.
        let call = kindCall(info.kind)
        switch call(instance, .none) {
        case .success(let detail): pass("answer", detail)
        case .classified(let error): pass("answer", "the call failed with a classified error (\(error.errorClass.rawValue)): "
                                          + "\(error.message) — give --input (and --config) for a call that succeeds")
        case .wrong(let problem): fail("answer", problem)
        }

        // 5. Many threads at once (unless it says it is single-threaded, when the host serializes).
        let broken = Mutex<[String]>([])
        let started = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<callsPerThread {
                if case .wrong(let problem) = call(instance, .none) {
                    broken.withLock { $0.append(problem) }
                    return
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if let problem = broken.withLock({ $0.first }) {
            fail("concurrency", "with \(threads) threads calling at once: \(problem); make the plugin thread-safe, "
                 + "or set TRELLIS_PLUGIN_SINGLE_THREADED in its descriptor")
        } else {
            pass("concurrency", "\(threads * callsPerThread) calls from \(threads) threads in \(formatDuration(seconds))"
                 + (info.isSingleThreaded ? " (serialized by the host: the plugin is single-threaded)" : ""))
        }

        // 6. A call whose deadline has passed returns at once.
        let token = CancellationToken()
        token.cancel()
        let past = PluginCallContext(deadlineUnixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 1000, cancellation: token)
        let before = DispatchTime.now().uptimeNanoseconds
        _ = call(instance, past)
        let took = Double(DispatchTime.now().uptimeNanoseconds - before) / 1e9
        if took <= cancellationBound {
            pass("cancellation", "a cancelled call past its deadline returned in \(formatDuration(took))")
        } else {
            fail("cancellation", "a cancelled call past its deadline took \(formatDuration(took)) (bound \(formatDuration(cancellationBound))); "
                 + "poll the cancel service (trellis.cancel/1) in long work, and use the host's HTTP client")
        }
        return findings
    }

    enum CallResult: Sendable {
        case success(String)
        case classified(PluginCallError)
        case wrong(String)
    }

    /// One call of the kind's main function, judged.
    private func kindCall(_ kind: PluginKind) -> @Sendable (PluginInstance, PluginCallContext) -> CallResult {
        let input = self.input
        switch kind {
        case .channel:
            return { instance, context in
                do throws(PluginCallError) {
                    let receipt = try instance.send(input ?? ["text": "conformance check"], context: context)
                    return .success("send answered a receipt: \(receipt.jsonString())")
                } catch {
                    // The host's own check of the receipt's shape comes back as an error of its own reason.
                    return error.reason == PluginCallError.malformedAnswer ? .wrong(error.message) : .classified(error)
                }
            }
        case .provider:
            return { instance, context in
                do throws(PluginCallError) {
                    let answer = try instance.complete(input ?? ["messages": [["role": "user", "content": "conformance check"]]],
                                                       context: context)
                    return .success("complete answered \(answer["finish_reason"]?.stringValue ?? "?") with "
                                    + "\(answer["text"]?.stringValue?.count ?? 0) characters of text")
                } catch {
                    return error.reason == PluginCallError.malformedAnswer ? .wrong(error.message) : .classified(error)
                }
            }
        case .recovery:
            return { instance, context in
                do throws(PluginCallError) {
                    let decision = try instance.decide(RecoveryFailure(errorClass: .retryable, message: "conformance check", attempt: 1,
                                                                       policy: input ?? [:]), context: context)
                    return .success("decide answered \(decision)")
                } catch {
                    return .classified(error)
                }
            }
        case .analyzer:
            let text = input?.stringValue ?? Self.sampleText
            return { instance, _ in
                do throws(PluginCallError) {
                    let tokens = try instance.tokens(of: text)
                    let length = text.utf8.count
                    func problem(_ tokens: [AnalyzedToken], _ call: String) -> String? {
                        var last = -1
                        for token in tokens {
                            guard token.bytes.lowerBound >= 0, token.bytes.upperBound <= length, token.bytes.lowerBound <= token.bytes.upperBound else {
                                return "\(call): token '\(token.term)' has bytes \(token.bytes), outside the \(length)-byte text"
                            }
                            guard token.position >= last else {
                                return "\(call): token '\(token.term)' has position \(token.position) after position \(last): positions must not go back"
                            }
                            last = token.position
                        }
                        return nil
                    }
                    if let problem = problem(tokens, "tokenize") { return .wrong(problem) }
                    var extra: [String] = []
                    // A filter (ABI 1.4) is fed what tokenize made.
                    if instance.isTokenFilter {
                        var filtered: [AnalyzedToken] = []
                        try instance.filter(text, tokens: tokens) { token in
                            filtered.append(AnalyzedToken(term: String(decoding: token.term, as: UTF8.self), position: token.position,
                                                          bytes: token.bytes))
                            return true
                        }
                        if let problem = problem(filtered, "filter") { return .wrong(problem) }
                        extra.append("filter kept \(filtered.count)")
                    }
                    // A batch (ABI 1.4) must give each text what tokenize gives it.
                    if instance.tokenizesInBatches {
                        let texts = [text, "", text.uppercased(), "one"]
                        var batched = [[String]](repeating: [], count: texts.count)
                        var badIndex: Int?
                        try instance.tokenizeBatch(texts) { index, token in
                            guard index >= 0 && index < texts.count else {
                                badIndex = index
                                return false
                            }
                            batched[index].append(String(decoding: token.term, as: UTF8.self))
                            return true
                        }
                        if let badIndex { return .wrong("tokenize_batch named text \(badIndex) of \(texts.count)") }
                        for (index, one) in texts.enumerated() where try instance.tokens(of: one).map(\.term) != batched[index] {
                            return .wrong("tokenize_batch gave text \(index) other tokens than tokenize gives it")
                        }
                        extra.append("tokenize_batch agrees with tokenize")
                    }
                    if !extra.isEmpty {
                        return .success("tokenize gave \(tokens.count) tokens with offsets inside the text and positions in order; "
                                        + extra.joined(separator: "; "))
                    }
                    return .success("tokenize gave \(tokens.count) tokens with offsets inside the text and positions in order")
                } catch {
                    return .classified(error)
                }
            }
        }
    }
}
