/// Matching documents of one segment, ascending, each with its score.
struct Matches {
    var docs: [UInt32] = []
    var scores: [Double] = []

    var count: Int { docs.count }

    /// Documents in either; scores add.
    static func union(_ a: Matches, _ b: Matches) -> Matches {
        if a.docs.isEmpty { return b }
        if b.docs.isEmpty { return a }
        var out = Matches()
        out.docs.reserveCapacity(a.count + b.count)
        out.scores.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a.docs[i] == b.docs[j] {
                out.docs.append(a.docs[i])
                out.scores.append(a.scores[i] + b.scores[j])
                i += 1
                j += 1
            } else if a.docs[i] < b.docs[j] {
                out.docs.append(a.docs[i])
                out.scores.append(a.scores[i])
                i += 1
            } else {
                out.docs.append(b.docs[j])
                out.scores.append(b.scores[j])
                j += 1
            }
        }
        out.docs.append(contentsOf: a.docs[i...])
        out.scores.append(contentsOf: a.scores[i...])
        out.docs.append(contentsOf: b.docs[j...])
        out.scores.append(contentsOf: b.scores[j...])
        return out
    }

    /// Documents in both; scores add.
    static func intersection(_ a: Matches, _ b: Matches) -> Matches {
        var out = Matches()
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a.docs[i] == b.docs[j] {
                out.docs.append(a.docs[i])
                out.scores.append(a.scores[i] + b.scores[j])
                i += 1
                j += 1
            } else if a.docs[i] < b.docs[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return out
    }

    /// `a`'s documents that `b` lacks; `a`'s scores.
    static func difference(_ a: Matches, _ b: Matches) -> Matches {
        if b.docs.isEmpty { return a }
        var out = Matches()
        var j = 0
        for (i, doc) in a.docs.enumerated() {
            while j < b.count && b.docs[j] < doc { j += 1 }
            if j < b.count && b.docs[j] == doc { continue }
            out.docs.append(doc)
            out.scores.append(a.scores[i])
        }
        return out
    }

    /// `a`'s documents, with `b`'s scores added where `b` has them too.
    static func adding(_ a: Matches, _ b: Matches) -> Matches {
        var out = a
        var j = 0
        for (i, doc) in a.docs.enumerated() {
            while j < b.count && b.docs[j] < doc { j += 1 }
            if j < b.count && b.docs[j] == doc { out.scores[i] += b.scores[j] }
        }
        return out
    }
}
