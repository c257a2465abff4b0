import TrellisCore
import TrellisPluginHost

/// Builds a channel's message from a rendered template: the channel's
/// manifest says where the recipient's address and each generic field go
/// (`notification` in the manifest); the template's variant for the channel
/// is laid over the result. A channel whose manifest says nothing gets the
/// generic fields as they are and the address as `to`.
enum ChannelMessage {
    static func compose(_ rendered: RenderedMessage, mapping: PluginManifest.NotificationMapping?,
                        address: JSONValue?) -> JSONValue {
        let mapping = mapping ?? PluginManifest.NotificationMapping(
            address: "to", fields: ["subject": "subject", "text": "text", "html": "html"])
        var message = mapping.fixed ?? .object([:])
        for (field, value) in rendered.fields.sorted(by: { $0.key < $1.key }) {
            guard let path = mapping.fields[field] else { continue }
            set(&message, path: path, to: value)
        }
        if let address, let path = mapping.address { set(&message, path: path, to: address) }
        if case .object(var object) = message {
            for (key, value) in rendered.channelFields { object[key] = value }
            message = .object(object)
        }
        return message
    }

    /// Sets `a.b.c`, making the objects on the way.
    static func set(_ value: inout JSONValue, path: String, to new: JSONValue) {
        let parts = path.split(separator: ".").map(String.init)
        func assign(_ target: inout JSONValue, _ index: Int) {
            var object = target.objectValue ?? [:]
            if index == parts.count - 1 {
                object[parts[index]] = new
            } else {
                var child = object[parts[index]] ?? .object([:])
                assign(&child, index + 1)
                object[parts[index]] = child
            }
            target = .object(object)
        }
        if !parts.isEmpty { assign(&value, 0) }
    }
}
