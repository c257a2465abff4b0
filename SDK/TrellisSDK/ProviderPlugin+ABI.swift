import CTrellisABI
import TrellisJSON

extension ProviderPlugin {
    func complete(json: UnsafeRawBufferPointer, context: CallContext, stream: TextStream?) throws -> [UInt8] {
        let request: CompletionRequest
        do {
            request = try PluginJSON.decode(CompletionRequest.self, from: json)
        } catch {
            throw PluginError.classify(error, while: "the request does not fit \(Self.id)")
        }
        return try PluginJSON.encode(complete(request, context: context, stream: stream))
    }
}

private struct ModelList: Encodable {
    var models: [ModelInfo]
}

nonisolated(unsafe) let providerTable: UnsafeRawPointer = {
    let table = UnsafeMutablePointer<trellis_provider_v1_t>.allocate(capacity: 1)
    table.initialize(to: trellis_provider_v1_t(
        struct_size: UInt32(MemoryLayout<trellis_provider_v1_t>.size),
        complete: { instance, context, request, sink, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let provider = box.provider else {
                return reply.fail(missingInstance)
            }
            var stream: TextStream?
            if let sink, has(\trellis_chunk_sink_t.chunk, in: sink.pointee.struct_size), let chunk = sink.pointee.chunk {
                let hostData = sink.pointee.host_data
                stream = TextStream { text in withABIString(text) { chunk(hostData, $0) == 0 } }
            }
            return reply.perform("completion failed") {
                try provider.complete(json: request.bytes, context: CallContext(raw: context, host: box.host),
                                      stream: stream)
            }
        },
        list_models: { instance, context, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let provider = box.provider else {
                return reply.fail(missingInstance)
            }
            return reply.perform("listing models failed") {
                try PluginJSON.encode(ModelList(models: provider.models(context: CallContext(raw: context, host: box.host))))
            }
        },
        embed: { instance, context, request, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let provider = box.provider else {
                return reply.fail(missingInstance)
            }
            return reply.perform("embedding failed") {
                let decoded: EmbeddingRequest
                do {
                    decoded = try PluginJSON.decode(EmbeddingRequest.self, from: request.bytes)
                } catch {
                    throw PluginError.classify(error, while: "the embedding request does not fit \(type(of: provider).id)")
                }
                return try PluginJSON.encode(provider.embed(decoded, context: CallContext(raw: context, host: box.host)))
            }
        }))
    return UnsafeRawPointer(table)
}()
