/// The best k documents for an OR of terms, without scoring every document
/// that holds a common word (MaxScore): each term's BM25 score has an upper
/// bound (from its largest frequency and shortest field); once the k-th best
/// score so far is above what the rarer terms could add together, documents
/// that hold only those are never looked at, and a candidate is dropped as
/// soon as what is left to add cannot lift it past the k-th.
struct TopKDisjunction {
    struct Term {
        var field: String
        var bytes: [UInt8]
        var weight: Double
    }

    /// The best candidates so far, best first (score, then id).
    struct Heap {
        let capacity: Int
        var items: [(segment: Int, doc: UInt32, score: Double, id: String)] = []

        var threshold: Double { items.count < capacity ? -Double.infinity : items[items.count - 1].score }

        mutating func offer(segment: Int, doc: UInt32, score: Double, id: () -> String) {
            if items.count == capacity, let last = items.last, score < last.score { return }
            let key = id()
            if items.count == capacity, let last = items.last, score == last.score, key >= last.id { return }
            var at = items.count
            while at > 0, items[at - 1].score < score || (items[at - 1].score == score && items[at - 1].id > key) { at -= 1 }
            items.insert((segment, doc, score, key), at: at)
            if items.count > capacity { items.removeLast() }
        }
    }

    private struct Cursor {
        let postings: TextPostings
        let term: Int
        let range: Range<Int>
        var at: Int
        let weight: Double
        let k1: Double
        let b: Double
        let averageLength: Double
        let bound: Double
        var doc: UInt32 { at < range.upperBound ? postings.docs[at] : .max }

        /// BM25 with its constants folded: weight·(k1+1)·tf / (tf + k1·(1−b) + k1·b·dl/avgdl).
        let scale: Double
        let base: Double
        let perLength: Double

        init(postings: TextPostings, term: Int, range: Range<Int>, weight: Double, k1: Double, b: Double, averageLength: Double, bound: Double) {
            self.postings = postings
            self.term = term
            self.range = range
            at = range.lowerBound
            self.weight = weight
            self.k1 = k1
            self.b = b
            self.averageLength = averageLength
            self.bound = bound
            scale = weight * (k1 + 1)
            base = k1 * (1 - b)
            perLength = k1 * b / averageLength
        }

        @inline(__always)
        func score() -> Double {
            let freq = Double(postings.freqs[at])
            return scale * freq / (freq + base + perLength * Double(postings.lengths[Int(postings.docs[at])]))
        }

        /// Moves to the first posting at or after `target` (galloping, then binary search).
        mutating func advance(to target: UInt32) {
            guard at < range.upperBound, postings.docs[at] < target else { return }
            var step = 1
            var low = at
            var high = at + 1
            while high < range.upperBound && postings.docs[high] < target {
                low = high
                step *= 2
                high = min(range.upperBound, at + step)
            }
            high = min(high, range.upperBound)
            while low < high {
                let middle = (low + high) / 2
                if postings.docs[middle] < target { low = middle + 1 } else { high = middle }
            }
            at = low
        }
    }

    /// Scores one segment into `heap`; returns how many documents it
    /// scored, and whether it skipped any (then that count is a lower bound).
    static func run(_ terms: [Term], segment number: Int, live: LiveSegment, schema: SearchSchema, statistics: CorpusStatistics,
                    filter: SegmentFilter, heap: inout Heap) -> (matched: Int, skipped: Bool) {
        let segment = live.segment
        var cursors: [Cursor] = []
        for term in terms {
            guard let postings = segment.text[term.field], let spec = schema.field(term.field),
                  let index = postings.terms.find(term.bytes) else { continue }
            let weight = term.weight * spec.boost
            let average = statistics.averageLength(term.field)
            let bound = SegmentScorer.bm25(weight: weight, freq: Double(postings.maxFreq[index]), length: Double(postings.minLength[index]),
                                           averageLength: average, k1: spec.k1, b: spec.b)
            let range = postings.postings(of: index)
            cursors.append(Cursor(postings: postings, term: index, range: range, weight: weight, k1: spec.k1, b: spec.b,
                                  averageLength: average, bound: bound))
        }
        guard !cursors.isEmpty else { return (0, false) }
        cursors.sort { $0.bound < $1.bound }
        // prefix[i]: what the i rarest-scoring terms could add together.
        var prefix = [0.0]
        for cursor in cursors { prefix.append(prefix[prefix.count - 1] + cursor.bound) }
        func essentialStart(_ threshold: Double) -> Int {
            var start = 0
            while start < cursors.count && prefix[start + 1] < threshold { start += 1 }
            return start
        }
        var threshold = heap.threshold
        var essential = essentialStart(threshold)
        var matched = 0
        var skipped = essential > 0
        while essential < cursors.count {
            var doc = UInt32.max
            for index in essential..<cursors.count { doc = min(doc, cursors[index].doc) }
            if doc == .max { break }
            var score = 0.0
            for index in essential..<cursors.count where cursors[index].doc == doc {
                score += cursors[index].score()
                cursors[index].at += 1
            }
            var bound = score + prefix[essential]
            var index = essential - 1
            while index >= 0 {
                if bound < threshold {
                    skipped = true
                    break
                }
                cursors[index].advance(to: doc)
                if cursors[index].doc == doc {
                    let term = cursors[index].score()
                    score += term
                    bound += term - cursors[index].bound
                } else {
                    bound -= cursors[index].bound
                }
                index -= 1
            }
            guard index < 0 || bound >= threshold else { continue }
            guard !live.isDeleted(Int(doc)), filter.accepts(Int(doc)) else { continue }
            matched += 1
            heap.offer(segment: number, doc: doc, score: score) { segment.ids.string(Int(doc)) }
            if heap.threshold > threshold {
                threshold = heap.threshold
                let start = essentialStart(threshold)
                if start > essential {
                    essential = start
                    skipped = true
                }
            }
        }
        return (matched, skipped)
    }

    /// The terms of a query that is only an OR of terms, or nil.
    static func terms(of query: PreparedQuery) -> [Term]? {
        switch query {
        case .terms(let field, let terms): return terms.map { Term(field: field, bytes: $0.bytes, weight: $0.weight) }
        case .boolean(let must, let should, let mustNot) where must.isEmpty && mustNot.isEmpty && !should.isEmpty:
            var all: [Term] = []
            for part in should {
                guard let terms = terms(of: part) else { return nil }
                all.append(contentsOf: terms)
            }
            return all
        case .nothing: return []
        default: return nil
        }
    }
}
