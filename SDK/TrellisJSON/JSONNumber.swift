/// The one number rule of Trellis's JSON, for the host and the SDK alike:
/// a whole number whose magnitude is below 2^53 (every integer a `Double`
/// holds exactly) is an integer: written without a fraction, typed
/// `integer` by the JSON Schema checks, encoded as `Int64`. Any other
/// finite number is written in Swift's shortest round-trip form; a
/// non-finite one (JSON has none) as `null`.
public enum JSONNumber {
    /// 2^53.
    public static let exactIntegerLimit: Double = 9_007_199_254_740_992

    @inlinable
    public static func isInteger(_ value: Double) -> Bool {
        value.rounded() == value && abs(value) < exactIntegerLimit
    }

    /// The number's JSON text, or nil when it is not finite.
    public static func text(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        return isInteger(value) ? String(Int64(value)) : "\(value)"
    }
}
