import Synchronization

/// The one redactor: every secret value the host resolves (deployment
/// secrets, plugins' secrets, workflow secrets) is registered with it, and
/// everything the host stores or prints — run events and step outputs
/// before they are written, error messages, log lines, CLI output — passes
/// through it, which replaces each secret, and its lower- and upper-case
/// forms, with `***`.
///
/// Values shorter than ``minimumLength`` are not registered: replacing
/// them everywhere would make output unreadable, and they are no secret.
public final class Redactor: Sendable {
    /// The process's redactor.
    public static let shared = Redactor()

    public static let minimumLength = 4
    public static let mask = "***"

    private let secrets = Mutex<[String]>([])
    /// Whether any secret is registered, readable without the lock (the
    /// common case of none costs one load).
    private let hasSecrets = Atomic<Bool>(false)

    public init() {}

    /// Registers a resolved secret value (and its case variants).
    public func register(_ value: String) {
        let trimmed = value.trimmingWhitespace
        guard trimmed.utf8.count >= Self.minimumLength else { return }
        secrets.withLock { list in
            for variant in [value, trimmed, trimmed.lowercased(), trimmed.uppercased()]
            where variant.utf8.count >= Self.minimumLength && !list.contains(variant) {
                list.append(variant)
            }
            // Longest first, so a secret containing another is masked whole.
            list.sort { $0.utf8.count > $1.utf8.count }
        }
        hasSecrets.store(true, ordering: .releasing)
    }

    /// Whether any secret is registered (nothing to mask otherwise).
    public var isEmpty: Bool { !hasSecrets.load(ordering: .acquiring) }

    /// `text` with every registered secret masked.
    public func redact(_ text: String) -> String {
        guard hasSecrets.load(ordering: .acquiring) else { return text }
        let list = secrets.withLock { $0 }
        var result = text
        for secret in list where result.contains(secret) {
            result = result.replacing(secret, with: Self.mask)
        }
        return result
    }

    /// `value` with every registered secret masked in its strings (keys included).
    public func redact(_ value: JSONValue) -> JSONValue {
        guard hasSecrets.load(ordering: .acquiring) else { return value }
        switch value {
        case .string(let text): return .string(redact(text))
        case .array(let items): return .array(items.map(redact))
        case .object(let object):
            return .object(Dictionary(object.map { (redact($0.key), redact($0.value)) }, uniquingKeysWith: { first, _ in first }))
        default: return value
        }
    }

    /// Whether `text` holds a registered secret.
    public func reveals(_ text: String) -> Bool {
        guard hasSecrets.load(ordering: .acquiring) else { return false }
        return secrets.withLock { $0 }.contains { text.contains($0) }
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
