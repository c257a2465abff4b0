import CTrellisABI
import TrellisCore

extension PluginInstance {
    private var channelTable: UnsafePointer<trellis_channel_v1_t>? {
        table(.channel, as: trellis_channel_v1_t.self)
    }

    /// Sends a message through a channel plugin; returns its delivery receipt.
    public func send(_ message: JSONValue, context: PluginCallContext = .none) throws(PluginCallError) -> JSONValue {
        guard let send = channelTable?.pointee.send else {
            throw PluginCallError(.config, "\(info.id) is a \(info.kind) plugin, not a channel", pluginID: info.id)
        }
        let raw = self.raw
        let (status, reply) = serialized {
            withABIString(bytes: message.jsonBytes()) { json in
                context.withABI { abiContext in withReply { send(raw, abiContext, json, $0) } }
            }
        }
        if status != TRELLIS_OK { throw failure(status, reply) }
        let receipt = try parseOutput(reply)
        if let problem = Self.receiptProblem(receipt) {
            throw PluginCallError(.permanent, "\(info.id) answered with a receipt that is not one: \(problem)", pluginID: info.id,
                                  reason: PluginCallError.malformedAnswer)
        }
        return receipt
    }

    /// What is wrong with a channel's delivery receipt, or nil: an object
    /// whose `status` is queued, sent or delivered, and whose `id`, when
    /// given, is a string (docs/abi.md, "Interfaces").
    static func receiptProblem(_ receipt: JSONValue) -> String? {
        guard case .object(let fields) = receipt else { return "it is \(receipt.typeName), not an object" }
        guard let status = fields["status"] else { return "it has no status (queued, sent or delivered)" }
        guard let name = status.stringValue, ["queued", "sent", "delivered"].contains(name) else {
            return "its status is \(status.jsonString()), not queued, sent or delivered"
        }
        if let id = fields["id"], id.stringValue == nil { return "its id is \(id.typeName), not a string" }
        return nil
    }
}

extension PluginLibrary {
    /// Asks a channel plugin to check a configuration beyond its schema,
    /// without creating an instance. Other kinds accept any config here.
    public func validateChannelConfig(_ configuration: JSONValue) throws(PluginCallError) {
        guard let table = interface(TRELLIS_INTERFACE_CHANNEL_V1)?.assumingMemoryBound(to: trellis_channel_v1_t.self),
              has(\trellis_channel_v1_t.validate_config, in: table.pointee.struct_size),
              let validate = table.pointee.validate_config else { return }
        let (status, reply) = withABIString(bytes: configuration.jsonBytes()) { json in withReply { validate(json, $0) } }
        if status != TRELLIS_OK { throw PluginCallError(status: status, reply: reply, pluginID: info.id) }
    }
}
