import Foundation
import TrellisCore
import TrellisSearch

/// The built-in steps `search.index` (documents, often an upstream step's
/// output, into a named index, committed before the step succeeds) and
/// `search.query` (hits with scores, highlights and facets).
struct SearchStep: Sendable {
    let engine: SearchEngine

    func index(_ inputs: JSONValue) -> StepOutcome {
        guard let name = inputs["index"]?.stringValue else { return .failure(.config, message: "give `index:`", retryAfterMilliseconds: 0) }
        let documents: [JSONValue]
        switch inputs["documents"] {
        case .array(let items)?: documents = items
        case .object?: documents = [inputs["documents"]!]
        case .string(let text)?:
            // JSON, or JSON lines, as a step's text output often is.
            if let value = try? JSONValue(json: Array(text.utf8)) {
                documents = value.arrayValue ?? [value]
            } else {
                var lines: [JSONValue] = []
                for (number, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
                    guard let value = try? JSONValue(json: Array(line.utf8)) else {
                        return .failure(.permanent, message: "documents: line \(number + 1) of the text is not JSON", retryAfterMilliseconds: 0)
                    }
                    lines.append(value)
                }
                documents = lines
            }
        default: documents = []
        }
        let deletions = (inputs["delete"]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0.intValue.map(String.init) }
        do {
            let index = try engine.index(name)
            if !documents.isEmpty { try index.index(documents) }
            if !deletions.isEmpty { index.delete(ids: deletions) }
            let summary = try index.commit()
            try index.mergeIfNeeded()
            return .success(["index": .string(name), "indexed": .number(Double(documents.count)),
                             "deleted": .number(Double(summary.deleted)), "generation": .number(Double(summary.generation))])
        } catch {
            return failure(error)
        }
    }

    func query(_ inputs: JSONValue) -> StepOutcome {
        guard let name = inputs["index"]?.stringValue, let text = inputs["query"]?.stringValue else {
            return .failure(.config, message: "give `index:` and `query:`", retryAfterMilliseconds: 0)
        }
        var request = SearchRequest(query: text)
        func integer(_ key: String) -> Int? { inputs[key]?.intValue ?? inputs[key]?.stringValue.flatMap { Int($0) } }
        if let limit = integer("limit") { request.limit = limit }
        if let offset = integer("offset") { request.offset = offset }
        if inputs["operator"]?.stringValue == "and" { request.defaultOperator = .and }
        request.fields = inputs["fields"]?.arrayValue?.compactMap(\.stringValue)
        request.facets = inputs["facets"]?.arrayValue?.compactMap(\.stringValue) ?? []
        request.highlight = inputs["highlight"]?.boolValue ?? true
        request.sort = (inputs["sort"]?.arrayValue ?? []).compactMap(\.stringValue).map { key in
            key.hasPrefix("-") ? SortKey(field: String(key.dropFirst()), descending: true) : SortKey(field: key)
        }
        for (field, value) in inputs["filters"]?.objectValue ?? [:] {
            let values = (value.arrayValue ?? [value]).compactMap { $0.stringValue ?? $0.intValue.map(String.init) ?? $0.boolValue.map(String.init) }
            request.filters.append(.equals(field: field, values: values))
        }
        for (field, bounds) in inputs["ranges"]?.objectValue ?? [:] {
            func bound(_ key: String) -> Double? { bounds[key].flatMap { SearchIndex.date($0) } }
            request.filters.append(.range(field: field, lower: bound("gte") ?? bound("gt"), upper: bound("lte") ?? bound("lt"),
                                          includeLower: bounds["gt"] == nil, includeUpper: bounds["lt"] == nil))
        }
        do {
            return .success(try engine.index(name).search(request).json)
        } catch {
            return failure(error)
        }
    }

    private func failure(_ error: SearchError) -> StepOutcome {
        switch error {
        case .storage: return .failure(.retryable, message: error.description, retryAfterMilliseconds: 0)
        case .unknownIndex, .invalidName, .analyzerUnavailable, .reindexNeeded: return .failure(.config, message: error.description, retryAfterMilliseconds: 0)
        default: return .failure(.permanent, message: error.description, retryAfterMilliseconds: 0)
        }
    }
}
