import CTrellisABI
import TrellisCore

extension PluginInstance {
    private var providerTable: UnsafePointer<trellis_provider_v1_t>? {
        table(.provider, as: trellis_provider_v1_t.self)
    }

    /// A function of the provider's table; reads only as far as the
    /// plugin's table reaches (a 1.2 table ends before `embed`).
    private func function<F>(_ field: KeyPath<trellis_provider_v1_t, F?>) throws(PluginCallError) -> F? {
        guard let table = providerTable else {
            throw PluginCallError(.config, "\(info.id) is a \(info.kind) plugin, not a provider", pluginID: info.id)
        }
        guard has(field, in: table.pointee.struct_size), let offset = MemoryLayout<trellis_provider_v1_t>.offset(of: field) else {
            return nil
        }
        return UnsafeRawPointer(table).load(fromByteOffset: offset, as: F?.self)
    }

    private func require<F>(_ field: KeyPath<trellis_provider_v1_t, F?>, _ name: String) throws(PluginCallError) -> F {
        guard let function = try function(field) else {
            throw PluginCallError(.config, "\(info.id) has no \(name) function in its provider table", pluginID: info.id)
        }
        return function
    }

    /// Completes a model request. `onChunk`, when given, receives streamed
    /// text as it arrives and returns false to stop the stream.
    public func complete(_ request: JSONValue, context: PluginCallContext = .none,
                         onChunk: ((String) -> Bool)? = nil) throws(PluginCallError) -> JSONValue {
        let complete = try require(\.complete, "complete")
        let raw = self.raw
        let (status, reply) = serialized {
            withABIString(bytes: request.jsonBytes()) { json in
                context.withABI { abiContext in
                    guard let onChunk else { return withReply { complete(raw, abiContext, json, nil, $0) } }
                    return withoutActuallyEscaping(onChunk) { onChunk in
                        var box = onChunk
                        return withUnsafeMutablePointer(to: &box) { boxPointer in
                            var sink = trellis_chunk_sink_t(
                                struct_size: UInt32(MemoryLayout<trellis_chunk_sink_t>.size),
                                host_data: UnsafeMutableRawPointer(boxPointer),
                                chunk: { data, text in
                                    let handler = data!.assumingMemoryBound(to: ((String) -> Bool).self).pointee
                                    return handler(text.string) ? 0 : 1
                                })
                            return withReply { complete(raw, abiContext, json, &sink, $0) }
                        }
                    }
                }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
        let answer = try parseOutput(reply)
        if let problem = Self.completionProblem(answer) {
            throw PluginCallError(.permanent, "\(info.id) answered with something that is not a completion: \(problem)",
                                  pluginID: info.id, reason: PluginCallError.malformedAnswer)
        }
        return answer
    }

    /// What is wrong with a provider's answer, or nil: an object with a
    /// string `text` and `finish_reason`, `usage` with whole, non-negative
    /// `input_tokens` and `output_tokens`, and, when given, a string `model`
    /// and `tool_calls` of `{id, name, arguments}` (docs/abi.md, "Payloads").
    static func completionProblem(_ answer: JSONValue) -> String? {
        guard case .object(let fields) = answer else { return "it is \(answer.typeName), not an object" }
        for name in ["text", "finish_reason"] {
            guard let value = fields[name] else { return "it has no \(name)" }
            if value.stringValue == nil { return "its \(name) is \(value.typeName), not a string" }
        }
        if let model = fields["model"], model.stringValue == nil { return "its model is \(model.typeName), not a string" }
        guard let usage = fields["usage"] else { return "it has no usage ({input_tokens, output_tokens})" }
        for name in ["input_tokens", "output_tokens"] {
            guard let count = usage[name]?.intValue, count >= 0 else {
                return "its usage.\(name) is \(usage[name]?.jsonString() ?? "missing"), not a whole number of tokens"
            }
        }
        if let calls = fields["tool_calls"] {
            guard let list = calls.arrayValue else { return "its tool_calls is \(calls.typeName), not an array" }
            for (index, call) in list.enumerated() {
                guard call["id"]?.stringValue != nil, call["name"]?.stringValue != nil else {
                    return "its tool_calls[\(index)] has no string id and name"
                }
            }
        }
        return nil
    }

    /// Whether the provider embeds text (its table has `embed`, ABI 1.3 on).
    public var embeds: Bool { ((try? function(\.embed)) ?? nil) != nil }

    /// Embeds `{"model", "input": [...]}`: `{"model", "embeddings": [[...]], "usage"}`.
    public func embed(_ request: JSONValue, context: PluginCallContext = .none) throws(PluginCallError) -> JSONValue {
        guard let embed = try function(\.embed) else {
            throw PluginCallError(.config, "\(info.id) does not embed text (it offers no embedding models)", pluginID: info.id)
        }
        let raw = self.raw
        let (status, reply) = serialized {
            withABIString(bytes: request.jsonBytes()) { json in
                context.withABI { abiContext in withReply { embed(raw, abiContext, json, $0) } }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
        return try parseOutput(reply)
    }

    /// The models a provider serves: `{"models": [{"id": ...}]}`.
    public func models(context: PluginCallContext = .none) throws(PluginCallError) -> JSONValue {
        let listModels = try require(\.list_models, "list_models")
        let raw = self.raw
        let (status, reply) = serialized { context.withABI { abiContext in withReply { listModels(raw, abiContext, $0) } } }
        if status != TRELLIS_OK { throw failure(status, reply) }
        return try parseOutput(reply)
    }
}
