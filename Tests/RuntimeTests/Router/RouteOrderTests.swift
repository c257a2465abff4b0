import Testing
import TrellisCore
import TrellisPluginHost
@testable import TrellisRuntime

/// The order strategies put deployments in, from the health the router keeps.
@Suite struct RouteOrderTests {
    static func group(_ strategy: ModelGroup.Strategy, _ models: [String]) -> ModelGroup {
        var group = ModelGroup(alias: "g")
        group.strategy = strategy
        group.deployments = models.map { ModelDeployment(name: "p/\($0)", plugin: "provider.x", model: $0) }
        return group
    }

    @Test func leastBusyPicksTheFewestInFlight() {
        let group = Self.group(.leastBusy, ["a", "b", "c"])
        let health = DeploymentHealth()
        health.started(group.deployments[0], now: 0)
        health.started(group.deployments[0], now: 0)
        health.started(group.deployments[2], now: 0)
        let order = RouteOrder(group, health: health, now: 1, estimatedTokens: 10, random: { 0 })
        #expect(order.ready.map(\.model) == ["b", "c", "a"])
    }

    @Test func lowestLatencyMeasuresTheUnmeasuredFirstThenTheFastest() {
        let group = Self.group(.lowestLatency, ["slow", "fast", "new"])
        let health = DeploymentHealth()
        for (deployment, latency) in [(group.deployments[0], 0.9), (group.deployments[1], 0.1)] {
            health.started(deployment, now: 0)
            health.succeeded(deployment, latency: latency, tokens: 1)
        }
        let order = RouteOrder(group, health: health, now: 1, estimatedTokens: 10, random: { 0 })
        #expect(order.ready.map(\.model) == ["new", "fast", "slow"])
    }

    @Test func aRequestTooLongForAWindowTriesTheLargerFirstAndLimitsSkip() {
        var group = Self.group(.ordered, ["small", "large", "busy"])
        group.deployments[0].contextWindow = 100
        group.deployments[2].rpm = 1
        let health = DeploymentHealth()
        health.started(group.deployments[2], now: 0)
        let order = RouteOrder(group, health: health, now: 1, estimatedTokens: 500, random: { 0 })
        #expect(order.ready.map(\.model) == ["large", "small"])
        #expect(order.skipped.map(\.deployment.model) == ["busy"])
        #expect(order.skipped.first?.reason == "at its limit of 1 requests a minute")
    }
}
