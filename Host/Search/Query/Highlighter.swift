/// Marks a document's matched terms in a field's text, from the byte ranges
/// the postings keep, and cuts a snippet around the densest run of them.
enum Highlighter {
    static func highlight(text: String, segment: Segment, field: String, doc: Int, terms: Set<[UInt8]>,
                          marks: (open: String, close: String), length: Int) -> Highlight? {
        guard let postings = segment.text[field] else { return nil }
        var ranges: [Range<Int>] = []
        let utf8 = Array(text.utf8)
        for term in terms {
            guard let index = postings.terms.find(term) else { continue }
            let range = postings.postings(of: index)
            // The document's posting, by binary search over the term's documents.
            var low = range.lowerBound, high = range.upperBound
            while low < high {
                let middle = (low + high) / 2
                if Int(postings.docs[middle]) < doc { low = middle + 1 } else { high = middle }
            }
            guard low < range.upperBound, Int(postings.docs[low]) == doc else { continue }
            for at in Int(postings.positionStart[low])..<Int(postings.positionStart[low + 1]) {
                let start = Int(postings.startBytes[at]), end = Int(postings.endBytes[at])
                if start < end, end <= utf8.count { ranges.append(start..<end) }
            }
        }
        guard !ranges.isEmpty else { return nil }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        // Overlapping ranges (n-grams of one word) become one.
        var merged: [Range<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        // The window of `length` bytes holding the most matches.
        let window = max(length, 20) * 2
        var bestStart = 0, bestCount = 0
        var right = 0
        for left in merged.indices {
            while right < merged.count && merged[right].upperBound - merged[left].lowerBound <= window { right += 1 }
            if right - left > bestCount {
                bestCount = right - left
                bestStart = left
            }
        }
        let first = merged[bestStart]
        var from = max(0, first.lowerBound - window / 4)
        var to = min(utf8.count, from + window)
        // Start and end on character boundaries, and at word boundaries where one is near.
        while from > 0 && utf8[from] & 0xC0 == 0x80 { from -= 1 }
        while to < utf8.count && utf8[to] & 0xC0 == 0x80 { to += 1 }
        if from > 0, let space = utf8[from..<first.lowerBound].firstIndex(of: 0x20) { from = space + 1 }
        if to < utf8.count, let space = utf8[max(from, first.upperBound)..<to].lastIndex(of: 0x20) { to = space }
        var snippet = from > 0 ? "…" : ""
        var cursor = from
        for range in merged where range.lowerBound >= from && range.upperBound <= to {
            snippet += String(decoding: utf8[cursor..<range.lowerBound], as: UTF8.self)
            snippet += marks.open + String(decoding: utf8[range], as: UTF8.self) + marks.close
            cursor = range.upperBound
        }
        snippet += String(decoding: utf8[cursor..<to], as: UTF8.self)
        if to < utf8.count { snippet += "…" }
        return Highlight(snippet: snippet, ranges: merged)
    }
}
