import TrellisCore

/// The order a group's deployments are tried in for one request, by the
/// group's strategy. Cooling deployments and those at their rpm/tpm limit
/// are left out (and reported); those whose context window the request
/// does not fit go last, so a larger one is tried first.
struct RouteOrder {
    var ready: [ModelDeployment] = []
    /// Deployments left out, with when they are back (Unix seconds) and why.
    var skipped: [(deployment: ModelDeployment, until: Double, reason: String)] = []

    init(_ group: ModelGroup, health: DeploymentHealth, now: Double, estimatedTokens: Int, random: () -> Double) {
        var candidates: [ModelDeployment] = []
        for deployment in group.deployments {
            if let cooling = health.cooling(deployment, now: now) {
                skipped.append((deployment, cooling.until, cooling.reason))
            } else if let limit = health.overLimit(deployment, now: now, estimatedTokens: estimatedTokens) {
                skipped.append((deployment, health.state(deployment).minuteStart + 60, limit))
            } else {
                candidates.append(deployment)
            }
        }
        switch group.strategy {
        case .ordered:
            break
        case .weighted:
            // Weighted shuffle: each draw picks among the rest by weight.
            var rest = candidates
            candidates = []
            while !rest.isEmpty {
                let total = rest.reduce(0) { $0 + $1.weight }
                var point = random() * total
                var index = rest.count - 1
                for (offset, deployment) in rest.enumerated() {
                    point -= deployment.weight
                    if point < 0 {
                        index = offset
                        break
                    }
                }
                candidates.append(rest.remove(at: index))
            }
        case .leastBusy:
            candidates = stableSorted(candidates) { health.state($0).inFlight < health.state($1).inFlight }
        case .lowestLatency:
            // Unmeasured first, so each gets measured.
            candidates = stableSorted(candidates) {
                (health.meanLatency($0) ?? -1) < (health.meanLatency($1) ?? -1)
            }
        case .cheapest:
            candidates = stableSorted(candidates) {
                $0.cost(inputTokens: estimatedTokens, outputTokens: estimatedTokens / 2)
                    < $1.cost(inputTokens: estimatedTokens, outputTokens: estimatedTokens / 2)
            }
        }
        let fits = candidates.filter { ($0.contextWindow ?? .max) >= estimatedTokens }
        ready = fits + candidates.filter { ($0.contextWindow ?? .max) < estimatedTokens }
    }
}

/// `items` sorted by `less`, equal ones kept in their order.
private func stableSorted<T>(_ items: [T], by less: (T, T) -> Bool) -> [T] {
    items.enumerated().sorted { less($0.element, $1.element) || (!less($1.element, $0.element) && $0.offset < $1.offset) }
        .map(\.element)
}

/// A rough count of tokens in a request, for limits, prices and context
/// windows before any provider has counted: about four characters a token.
func estimatedTokens(_ request: JSONValue) -> Int {
    var characters = 0
    for message in request["messages"]?.arrayValue ?? [] { characters += message["content"]?.stringValue?.utf8.count ?? 0 }
    return characters / 4 + 1
}
