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
        // One read of the health, so the order is of one moment.
        var candidates: [(deployment: ModelDeployment, state: DeploymentHealth.State)] = []
        for (deployment, state) in zip(group.deployments, health.snapshot(group.deployments)) {
            if let cooling = state.cooling(now: now) {
                skipped.append((deployment, cooling.until, cooling.reason))
            } else if let limit = state.overLimit(deployment, now: now, estimatedTokens: estimatedTokens) {
                skipped.append((deployment, state.minuteStart + 60, limit))
            } else {
                candidates.append((deployment, state))
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
                let total = rest.reduce(0) { $0 + $1.deployment.weight }
                var point = random() * total
                var index = rest.count - 1
                for (offset, candidate) in rest.enumerated() {
                    point -= candidate.deployment.weight
                    if point < 0 {
                        index = offset
                        break
                    }
                }
                candidates.append(rest.remove(at: index))
            }
        case .leastBusy:
            candidates = stableSorted(candidates) { $0.state.inFlight < $1.state.inFlight }
        case .lowestLatency:
            // Unmeasured first, so each gets measured.
            candidates = stableSorted(candidates) { ($0.state.meanLatency ?? -1) < ($1.state.meanLatency ?? -1) }
        case .cheapest:
            func price(_ deployment: ModelDeployment) -> Double {
                deployment.cost(inputTokens: estimatedTokens, outputTokens: estimatedTokens / 2)
            }
            candidates = stableSorted(candidates) { price($0.deployment) < price($1.deployment) }
        }
        let ordered = candidates.map(\.deployment)
        let fits = ordered.filter { ($0.contextWindow ?? .max) >= estimatedTokens }
        ready = fits + ordered.filter { ($0.contextWindow ?? .max) < estimatedTokens }
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
