import CTrellisABI
import TrellisJSON

extension ChannelPlugin {
    func send(json: UnsafeRawBufferPointer, context: CallContext) throws -> [UInt8] {
        let message: Message
        do {
            message = try PluginJSON.decode(Message.self, from: json)
        } catch {
            throw PluginError.classify(error, while: "the message does not fit \(Self.id)")
        }
        var out: [UInt8] = []
        try send(message, context: context).node.write(to: &out)
        return out
    }
}

extension DeliveryReceipt {
    /// The receipt as JSON, written directly: it goes back on every send.
    var node: JSONNode {
        .object(["id": .string(id), "status": .string(status.rawValue), "detail": .object(detail.mapValues(JSONNode.string))])
    }
}

nonisolated(unsafe) let channelTable: UnsafeRawPointer = {
    let table = UnsafeMutablePointer<trellis_channel_v1_t>.allocate(capacity: 1)
    table.initialize(to: trellis_channel_v1_t(
        struct_size: UInt32(MemoryLayout<trellis_channel_v1_t>.size),
        validate_config: { config, reply in
            let reply = Reply(raw: reply)
            let validate = exportedPlugin.withLock { $0?.validateChannelConfig }
            return reply.perform("invalid configuration") {
                try validate?(config.bytes)
                return nil
            }
        },
        send: { instance, context, message, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let channel = box.channel else {
                return reply.fail(missingInstance)
            }
            return reply.perform("send failed") {
                try channel.send(json: message.bytes, context: CallContext(raw: context, host: box.host))
            }
        }))
    return UnsafeRawPointer(table)
}()
