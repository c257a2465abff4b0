/// The dependency graph of a workflow's steps.
public struct DAG: Sendable {
    public let ids: [String]
    /// step → the steps it needs.
    public let needs: [String: [String]]
    /// step → the steps that need it.
    public let dependents: [String: [String]]

    public init(steps: [Step]) {
        ids = steps.map(\.id)
        var needs: [String: [String]] = [:]
        var dependents: [String: [String]] = [:]
        let known = Set(ids)
        for step in steps {
            needs[step.id] = step.needs.filter(known.contains)
            for need in step.needs where known.contains(need) { dependents[need, default: []].append(step.id) }
        }
        self.needs = needs
        self.dependents = dependents
    }

    /// One dependency cycle, as the steps on it in order with the first
    /// repeated at the end (`a → b → c → a`); nil when there is none.
    /// Iterative: a chain of any length cannot exhaust the stack.
    public func findCycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        marks.reserveCapacity(ids.count)
        for root in ids where marks[root] == nil {
            // The path from `root`, each with the index of its next need to visit.
            var path: [(id: String, next: Int)] = [(root, 0)]
            marks[root] = .visiting
            while let top = path.last {
                let edges = needs[top.id] ?? []
                guard top.next < edges.count else {
                    marks[top.id] = .done
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let need = edges[top.next]
                switch marks[need] {
                case .done:
                    continue
                case .visiting:
                    let start = path.firstIndex { $0.id == need }!
                    // `needs` edges point backwards: report in the direction work flows.
                    return (path[start...].map(\.id) + [need]).reversed()
                case nil:
                    marks[need] = .visiting
                    path.append((need, 0))
                }
            }
        }
        return nil
    }
}

/// Whether one step is upstream of another, asked many times over one
/// acyclic graph. Each step's depth (the longest path of needs below it)
/// prunes the search: an ancestor is always shallower than its descendant,
/// so a search back from a step never goes below the candidate's depth. A
/// step that refers to the step just before it costs O(1), not O(steps).
public struct UpstreamIndex: Sendable {
    let dag: DAG
    let depth: [String: Int]

    /// Nil when the graph has a cycle.
    public init?(_ dag: DAG) {
        self.dag = dag
        var depth: [String: Int] = [:]
        depth.reserveCapacity(dag.ids.count)
        // Kahn's order over `needs`: a step's depth is one more than its deepest need.
        var remaining = dag.needs.mapValues(\.count)
        var ready = dag.ids.filter { remaining[$0] == 0 }
        for id in ready { depth[id] = 0 }
        while let id = ready.popLast() {
            for dependent in dag.dependents[id] ?? [] {
                depth[dependent] = max(depth[dependent] ?? 0, depth[id]! + 1)
                remaining[dependent]! -= 1
                if remaining[dependent] == 0 { ready.append(dependent) }
            }
        }
        guard depth.count == Set(dag.ids).count else { return nil }
        self.depth = depth
    }

    /// Whether `candidate` is among the steps `step` needs, directly or not.
    public func isUpstream(_ candidate: String, of step: String) -> Bool {
        guard let floor = depth[candidate], let top = depth[step], floor < top else { return false }
        var seen = Set<String>()
        var queue = dag.needs[step] ?? []
        while let next = queue.popLast() {
            if next == candidate { return true }
            guard let level = depth[next], level > floor, seen.insert(next).inserted else { continue }
            queue += dag.needs[next] ?? []
        }
        return false
    }
}
