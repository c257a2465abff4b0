import Foundation

/// A semantic version `MAJOR.MINOR.PATCH[-PRERELEASE]` (build metadata ignored).
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    public var prerelease: String?

    public init(_ major: Int, _ minor: Int, _ patch: Int, prerelease: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
    }

    /// Parses `1.2.3`, `1.2.3-beta.1`, `v1.2.3`. Returns nil for anything else.
    public init?(_ text: String) {
        var text = Substring(text)
        if text.hasPrefix("v") { text = text.dropFirst() }
        if let plus = text.firstIndex(of: "+") { text = text[..<plus] }
        var prerelease: String?
        if let dash = text.firstIndex(of: "-") {
            prerelease = String(text[text.index(after: dash)...])
            text = text[..<dash]
            if prerelease!.isEmpty { return nil }
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let major = Int(parts[0]), let minor = Int(parts[1]), let patch = Int(parts[2]),
              major >= 0, minor >= 0, patch >= 0 else { return nil }
        self.init(major, minor, patch, prerelease: prerelease)
    }

    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.map { "-\($0)" } ?? "")
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        switch (lhs.prerelease, rhs.prerelease) {
        case (nil, nil), (nil, _): return false
        case (_, nil): return true
        case let (left?, right?): return left.compare(right, options: .numeric) == .orderedAscending
        }
    }
}

/// A set of acceptable versions, written as npm/Cargo-style comparators:
/// `1.2.3` (exactly), `1.2` or `1.x` (any 1.2.*), `^1.2.0`, `~1.2.0`,
/// `>=1.0.0 <2.0.0` (all must hold; commas or spaces between), `*`.
public struct VersionRange: Sendable, Hashable, CustomStringConvertible {
    struct Bound: Sendable, Hashable {
        var lower: SemanticVersion?   // inclusive unless lowerOpen
        var lowerOpen = false
        var upper: SemanticVersion?   // exclusive unless upperClosed
        var upperClosed = false

        func contains(_ version: SemanticVersion) -> Bool {
            if let lower, lowerOpen ? version <= lower : version < lower { return false }
            if let upper, upperClosed ? version > upper : version >= upper { return false }
            return true
        }
    }

    public let description: String
    let bounds: [Bound]

    public init(_ text: String) throws {
        description = text
        var bounds: [Bound] = []
        let terms = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard !terms.isEmpty else { throw VersionRangeError(text: text, reason: "it is empty") }
        for term in terms {
            bounds.append(try Self.parse(term, in: text))
        }
        self.bounds = bounds
    }

    public func contains(_ version: SemanticVersion) -> Bool {
        bounds.allSatisfy { $0.contains(version) }
    }

    private static func parse(_ term: String, in text: String) throws -> Bound {
        if term == "*" || term == "x" { return Bound() }
        for op in [">=", "<=", ">", "<", "=", "^", "~"] where term.hasPrefix(op) {
            let rest = String(term.dropFirst(op.count))
            guard let (version, given) = partial(rest) else {
                throw VersionRangeError(text: text, reason: "'\(rest)' is not a version")
            }
            switch op {
            case ">=": return Bound(lower: version)
            case ">": return Bound(lower: version, lowerOpen: true)
            case "<": return Bound(upper: version)
            case "<=": return Bound(upper: version, upperClosed: true)
            case "=": return exact(version, given: given)
            case "^":
                let upper = version.major > 0 || given == 1 ? SemanticVersion(version.major + 1, 0, 0)
                    : version.minor > 0 || given == 2 ? SemanticVersion(0, version.minor + 1, 0)
                    : SemanticVersion(0, 0, version.patch + 1)
                return Bound(lower: version, upper: upper)
            default: // "~"
                let upper = given == 1 ? SemanticVersion(version.major + 1, 0, 0)
                    : SemanticVersion(version.major, version.minor + 1, 0)
                return Bound(lower: version, upper: upper)
            }
        }
        guard let (version, given) = partial(term) else {
            throw VersionRangeError(text: text, reason: "'\(term)' is not a version or comparator")
        }
        return exact(version, given: given)
    }

    private static func exact(_ version: SemanticVersion, given: Int) -> Bound {
        switch given {
        case 1: Bound(lower: version, upper: SemanticVersion(version.major + 1, 0, 0))
        case 2: Bound(lower: version, upper: SemanticVersion(version.major, version.minor + 1, 0))
        default: Bound(lower: version, upper: version, upperClosed: true)
        }
    }

    /// Parses `1`, `1.2`, `1.x`, `1.2.x` or a full version; returns how many
    /// numbers were given.
    private static func partial(_ text: String) -> (SemanticVersion, Int)? {
        if let full = SemanticVersion(text) { return (full, 3) }
        let parts = text.split(separator: ".").filter { $0 != "x" && $0 != "*" }
        guard (1...2).contains(parts.count), parts.allSatisfy({ Int($0) != nil }) else { return nil }
        let numbers = parts.map { Int($0)! }
        return (SemanticVersion(numbers[0], numbers.count > 1 ? numbers[1] : 0, 0), numbers.count)
    }
}

public struct VersionRangeError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String {
        "invalid version range '\(text)': \(reason); write e.g. '^1.2.0', '~1.2', '>=1.0.0 <2.0.0' or '1.4.2'"
    }
}
