import TrellisSDK

/// A channel that "delivers" a greeting. It shows the parts every channel
/// has: a typed configuration, a secret read through the host, logging, a
/// typed message, classified errors and a delivery receipt.
struct HelloChannel: ChannelPlugin {
    struct Configuration: Decodable {
        var greeting: String?
    }

    struct Message: Decodable {
        var to: String
    }

    static let id = "channel.hello"
    static let version = "0.1.0"
    static let summary = "Greets someone: the example third-party plugin."

    let greeting: String
    let host: TrellisHost

    init(configuration: Configuration, host: TrellisHost) throws {
        greeting = configuration.greeting ?? "Hello"
        self.host = host
        // A real channel would use the key to authenticate to its service.
        let key = try host.secret("api_key")
        guard key.count >= 8 else {
            throw PluginError.config("the api_key secret is too short: give the full key from your account")
        }
    }

    static func validate(configuration: Configuration) throws {
        if configuration.greeting?.isEmpty == true {
            throw PluginError.config("`greeting` is empty: leave it out for \"Hello\"")
        }
    }

    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
        guard !message.to.isEmpty else { throw PluginError.permanent("`to` is empty: say whom to greet") }
        host.log(.info, "greeting \(message.to)")
        host.increment("greetings")
        return DeliveryReceipt(
            id: context.idempotencyKey.isEmpty ? "hello-\(message.to)" : context.idempotencyKey,
            status: .delivered,
            detail: ["text": "\(greeting), \(message.to)!", "authenticated": "true"])
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(HelloChannel.self) }
