import Foundation
import TrellisCore
import Yams

/// Measures loading a workflow (YAML, the workflow's schema, the DAG, its
/// cycle check, expressions and their references upstream) beside parsing
/// the same text with Yams alone, which every load must do first.
public struct LoadBenchmark: Sendable {
    public enum Shape: String, Sendable, CaseIterable, Codable {
        /// One step, then all others needing it (each with a literal input).
        case fan
        /// Each step needing the one before and reading its output in an expression.
        case chain
    }

    public var shape: Shape
    public var steps: Int
    public var rounds: Int

    public init(shape: Shape, steps: Int, rounds: Int) {
        self.shape = shape
        self.steps = steps
        self.rounds = rounds
    }

    public struct Result: Sendable, Codable {
        public var shape: Shape
        public var steps: Int
        public var bytes: Int
        /// The best round's load, and Yams's parse of the same text.
        public var loadSeconds: Double
        public var yamlSeconds: Double
        public var microsecondsPerStep: Double { loadSeconds / Double(steps) * 1_000_000 }
        /// How many times the YAML parse alone the whole load costs.
        public var ratioToYAML: Double { loadSeconds / yamlSeconds }
    }

    /// The workflow's YAML text.
    public func workflow() -> String {
        var text = "name: load-\(shape.rawValue)\nsteps:\n"
        text.reserveCapacity(steps * 90)
        switch shape {
        case .fan:
            text += "  - { id: root, uses: noop, with: { n: 0 } }\n"
            for index in 1..<max(steps, 2) { text += "  - { id: s\(index), uses: noop, needs: [root], with: { n: \(index) } }\n" }
        case .chain:
            text += "  - { id: s0, uses: noop, with: { n: 0 } }\n"
            for index in 1..<max(steps, 2) {
                text += "  - { id: s\(index), uses: noop, needs: [s\(index - 1)], with: { n: \"${{ steps.s\(index - 1).output.n }}\" } }\n"
            }
        }
        return text
    }

    public func run() throws -> Result {
        let text = workflow()
        let loader = WorkflowLoader()
        var best = (load: Double.infinity, yaml: Double.infinity)
        for _ in 0..<rounds {
            var start = DispatchTime.now().uptimeNanoseconds
            _ = try Yams.compose(yaml: text)
            best.yaml = min(best.yaml, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            start = DispatchTime.now().uptimeNanoseconds
            let result = loader.load(text: text, file: "load.yaml")
            best.load = min(best.load, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            guard result.workflow != nil else {
                throw LoadBenchmarkError(message: result.problems.prefix(3).map(\.description).joined(separator: "\n"))
            }
        }
        return Result(shape: shape, steps: max(steps, 2), bytes: text.utf8.count, loadSeconds: best.load, yamlSeconds: best.yaml)
    }
}

public struct LoadBenchmarkError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "the generated workflow did not load: \(message)" }
}
