import Foundation
import Synchronization
import TrellisCore
import TrellisPluginHost

/// Several models asked the same thing at once, and one answer picked:
/// by majority of the normalized answers, by the first answer `k` members
/// agree on (in the order they answered), or by a judge model. The output
/// lists every member's answer, latency and cost.
struct Ensemble {
    enum Pick: String { case majority, firstK = "first-k", judge }

    let router: ModelRouter
    let models: [String]
    let pick: Pick
    let k: Int
    let judge: String?

    init(router: ModelRouter, config: JSONValue) throws(RouterError) {
        self.router = router
        models = config["models"]?.arrayValue?.compactMap(\.stringValue) ?? []
        pick = config["pick"]?.stringValue.flatMap(Pick.init(rawValue:)) ?? .majority
        k = config["k"]?.intValue ?? 2
        judge = config["judge"]?.stringValue
        guard (2...16).contains(models.count) else {
            throw RouterError(.invalidRequest, "an ensemble has 2 to 16 models, not \(models.count)", errorClass: .config)
        }
        if pick == .judge, judge == nil {
            throw RouterError(.invalidRequest, "an ensemble that picks by judge needs `judge: <model>`", errorClass: .config)
        }
    }

    struct Member {
        var model: String
        var answer: RoutedAnswer?
        var error: RouterError?
        /// When it finished, in the order members answered.
        var finished = 0
    }

    func run(_ with: JSONValue, context: PluginCallContext) throws(RouterError) -> JSONValue {
        let step = AIStep(router: router)
        let results = Mutex([Member](models.map { Member(model: $0) }))
        let order = Atomic<Int>(0)
        // Each member on a thread of its own (at most 16), all at once: the
        // calls block on the network, so a pool as wide as the cores would
        // ask them a few at a time.
        let done = DispatchGroup()
        for (index, model) in models.enumerated() {
            done.enter()
            let thread = Thread {
                var member = Member(model: model)
                do throws(RouterError) {
                    member.answer = try step.answer(with, model: model, context: context)
                } catch {
                    member.error = error
                }
                member.finished = order.add(1, ordering: .relaxed).newValue
                results.withLock { $0[index] = member }
                done.leave()
            }
            thread.name = "trellis-ensemble"
            thread.start()
        }
        done.wait()
        let members = results.withLock { $0 }
        let answered = members.filter { $0.answer != nil }
        guard !answered.isEmpty else {
            throw RouterError(.exhausted, "no member of the ensemble answered: "
                              + members.map { "\($0.model): \($0.error?.message ?? "no answer")" }.joined(separator: "; "),
                              errorClass: members.compactMap(\.error).contains { $0.errorClass == .retryable } ? .retryable : .permanent)
        }
        let keys = members.map { $0.answer.map(Self.normalized) }
        var votes: [String: Int] = [:]
        for key in keys.compactMap({ $0 }) { votes[key, default: 0] += 1 }
        let chosen: Int
        switch pick {
        case .majority:
            // The most votes; a tie goes to the member listed first.
            let best = votes.values.max() ?? 0
            chosen = keys.firstIndex { $0.map { votes[$0] == best } ?? false } ?? 0
        case .firstK:
            var seen: [String: Int] = [:]
            var winner: Int?
            for index in members.indices.sorted(by: { members[$0].finished < members[$1].finished }) {
                guard let key = keys[index] else { continue }
                seen[key, default: 0] += 1
                if seen[key] == k {
                    winner = keys.firstIndex(of: key)
                    break
                }
            }
            guard let winnerIndex = winner else {
                throw RouterError(.invalidAnswer, "no \(k) members of the ensemble agreed: "
                                  + members.map { "\($0.model): \($0.answer.map { String($0.text.prefix(60)) } ?? "no answer")" }
                                      .joined(separator: "; "), errorClass: .permanent)
            }
            chosen = winnerIndex
        case .judge:
            chosen = try judged(members, with: with, context: context)
        }
        guard var output = members[chosen].answer?.output.objectValue else { return .null }
        output["ensemble"] = [
            "pick": .string(pick.rawValue),
            "chosen": .string(members[chosen].model),
            "votes": .number(Double(keys[chosen].flatMap { votes[$0] } ?? 0)),
            "members": .array(members.map { member in
                var entry: [String: JSONValue] = ["model": .string(member.model)]
                if let answer = member.answer {
                    entry["text"] = .string(answer.text)
                    entry["deployment"] = .string(answer.deployment)
                    entry["latency_ms"] = .number((answer.latencySeconds * 1000).rounded())
                    entry["cost"] = .number(answer.cost)
                } else if let error = member.error {
                    entry["error"] = .string(error.message)
                }
                return .object(entry)
            }),
        ]
        output["cost"] = .number(members.compactMap(\.answer).reduce(0) { $0 + $1.cost })
        return .object(output)
    }

    /// An answer as votes compare it: its JSON when structured, else its
    /// text folded to lower case with runs of spaces and a final period dropped.
    static func normalized(_ answer: RoutedAnswer) -> String {
        if let json = answer.json { return json.jsonString() }
        let words = answer.text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return words.hasSuffix(".") ? String(words.dropLast()) : words
    }

    /// Asks the judge which numbered answer is best.
    private func judged(_ members: [Member], with: JSONValue, context: PluginCallContext) throws(RouterError) -> Int {
        let candidates = members.indices.filter { members[$0].answer != nil }
        let question = (try? AIStep.body(with)["messages"]?.arrayValue?.last?["content"]?.stringValue) ?? nil
        var prompt = "Question:\n\(question ?? "")\n\nAnswers:\n"
        for (number, index) in candidates.enumerated() {
            prompt += "\n[\(number + 1)] \(members[index].answer?.text ?? "")\n"
        }
        prompt += "\nWhich answer is best? Reply with its number alone."
        let verdict = try router.complete(
            ModelRouter.Request(model: judge ?? "", body: ["messages": [["role": "user", "content": .string(prompt)]]], useCache: false),
            context: context)
        let digits = verdict.text.drop { !$0.isNumber }.prefix { $0.isNumber }
        guard let number = Int(digits), (1...candidates.count).contains(number) else {
            throw RouterError(.invalidAnswer, "the judge \(judge ?? "") did not answer with a number from 1 to \(candidates.count): "
                              + String(verdict.text.prefix(100)), errorClass: .retryable)
        }
        return candidates[number - 1]
    }
}
