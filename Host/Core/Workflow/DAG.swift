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
    public func findCycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var stack: [String] = []
        func visit(_ id: String) -> [String]? {
            if marks[id] == .done { return nil }
            if marks[id] == .visiting {
                let start = stack.firstIndex(of: id)!
                return Array(stack[start...]) + [id]
            }
            marks[id] = .visiting
            stack.append(id)
            for need in needs[id] ?? [] {
                if let cycle = visit(need) { return cycle }
            }
            stack.removeLast()
            marks[id] = .done
            return nil
        }
        for id in ids {
            if let cycle = visit(id) {
                // `needs` edges point backwards: report in the direction work flows.
                return cycle.reversed()
            }
        }
        return nil
    }

    /// Every step `id` depends on, directly or not.
    public func upstream(of id: String) -> Set<String> {
        var seen = Set<String>()
        var queue = needs[id] ?? []
        while let next = queue.popLast() {
            if seen.insert(next).inserted { queue += needs[next] ?? [] }
        }
        return seen
    }
}
