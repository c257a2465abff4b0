/// Edit distance with adjacent transpositions (optimal string alignment:
/// "teh" is one edit from "the"), computed only as far as `limit`.
enum EditDistance {
    /// The distance between `a` and `b`, or nil when it is more than `limit`.
    static func within(_ a: [UInt32], _ b: [UInt32], limit: Int) -> Int? {
        if abs(a.count - b.count) > limit { return nil }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) <= limit ? max(a.count, b.count) : nil }
        let width = b.count + 1
        var before = [Int](repeating: 0, count: width)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: width)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { value = min(value, before[j - 2] + 1) }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return nil }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }

    /// Typos a word of this many characters may have when a query asks for
    /// them by length (`word~`): none below 5, one below 9, two from 9 on.
    static func allowedTypos(length: Int) -> Int { length < 5 ? 0 : length < 9 ? 1 : 2 }
}
