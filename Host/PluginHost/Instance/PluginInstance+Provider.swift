import CTrellisABI
import TrellisCore

extension PluginInstance {
    private var providerTable: UnsafePointer<trellis_provider_v1_t>? {
        table(.provider, as: trellis_provider_v1_t.self)
    }

    private func requireProvider() throws(PluginCallError) -> trellis_provider_v1_t {
        guard let table = providerTable?.pointee else {
            throw PluginCallError(.config, "\(info.id) is a \(info.kind) plugin, not a provider", pluginID: info.id)
        }
        return table
    }

    /// Completes a model request. `onChunk`, when given, receives streamed
    /// text as it arrives and returns false to stop the stream.
    public func complete(_ request: JSONValue, context: PluginCallContext = .none,
                         onChunk: ((String) -> Bool)? = nil) throws(PluginCallError) -> JSONValue {
        let complete = try requireProvider().complete!
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
        return try parseOutput(reply)
    }

    /// The models a provider serves: `{"models": [{"id": ...}]}`.
    public func models(context: PluginCallContext = .none) throws(PluginCallError) -> JSONValue {
        let listModels = try requireProvider().list_models!
        let raw = self.raw
        let (status, reply) = serialized { context.withABI { abiContext in withReply { listModels(raw, abiContext, $0) } } }
        if status != TRELLIS_OK { throw failure(status, reply) }
        return try parseOutput(reply)
    }
}
