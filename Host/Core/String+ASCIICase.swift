extension String {
    /// Equal when compared without regard to ASCII letter case: HTTP header
    /// names and tokens, without the allocation of `lowercased()` or the
    /// locale work of Foundation's comparisons.
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        return zip(utf8, other.utf8).allSatisfy { a, b in
            a == b || (a | 0x20 == b | 0x20 && (97...122).contains(a | 0x20))
        }
    }
}
