/// The Swift plugin `trellis plugins new … --lang swift` writes: a package
/// on the SDK package alone, one type per kind. `@NAME@` (the type and
/// module), `@ID@`, `@SUMMARY@` and `@SDKPATH@` (the SDK package's path) are filled in.
enum SwiftTemplates {
    static let package = """
        // swift-tools-version:6.0
        // A Trellis plugin: its own package, on the Trellis SDK package alone.
        import PackageDescription

        let package = Package(
            name: "@NAME@",
            products: [
                // A plugin is a dynamic library.
                .library(name: "@NAME@", type: .dynamic, targets: ["@NAME@"]),
            ],
            dependencies: [
                .package(path: "@SDKPATH@"),
            ],
            targets: [
                .target(
                    name: "@NAME@",
                    dependencies: [.product(name: "TrellisSDK", package: "SDK")],
                    // Export nothing but trellis_plugin_entry.
                    linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\\(Context.packageDirectory)/exports.map"])]
                ),
            ]
        )

        """

    static let exports = "{ global: trellis_plugin_entry; local: *; };\n"

    static func source(kind: String) -> String {
        let body: String
        switch kind {
        case "channel":
            body = """
                struct @NAME@: ChannelPlugin {
                    struct Message: Decodable {
                        var text: String?
                    }

                    static let id = "@ID@"
                    static let version = "0.1.0"
                    static let summary = "@SUMMARY@"

                    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

                    /// Delivers a message: here it only answers a receipt. A real channel
                    /// calls its service with `context.http(_:)` and maps its errors.
                    func send(_ message: Message, context: CallContext) throws -> DeliveryReceipt {
                        guard message.text?.isEmpty != true else { throw PluginError.permanent("`text` is empty: say something") }
                        return DeliveryReceipt(id: context.idempotencyKey.isEmpty ? "@NAME@-1" : context.idempotencyKey, status: .delivered)
                    }
                }
                """
        case "provider":
            body = """
                struct @NAME@: ProviderPlugin {
                    static let id = "@ID@"
                    static let version = "0.1.0"
                    static let summary = "@SUMMARY@"

                    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

                    /// Answers a completion: here always the same words, streamed when asked.
                    /// A real provider calls its model API with `context.modelRequest` and
                    /// `context.modelStream` (docs/plugin-authoring.md).
                    func complete(_ request: CompletionRequest, context: CallContext, stream: TextStream?) throws -> CompletionResponse {
                        let words = ["hello", " from", " @NAME@"]
                        if let stream { for word in words { guard stream(word) else { break } } }
                        return CompletionResponse(model: "@NAME@", text: words.joined(), finishReason: "stop",
                                                  usage: TokenUsage(inputTokens: 0, outputTokens: words.count))
                    }

                    func models(context: CallContext) throws -> [ModelInfo] { [ModelInfo(id: "@NAME@")] }
                }
                """
        case "recovery":
            body = """
                struct @NAME@: RecoveryPlugin {
                    struct Policy: Decodable, Sendable {
                        var max_attempts: Int?
                    }

                    static let id = "@ID@"
                    static let version = "0.1.0"
                    static let summary = "@SUMMARY@"

                    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

                    /// Retries transient failures, 100 ms apart, up to the step's max_attempts (3);
                    /// other failures are left to the next strategy.
                    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
                        let transient = failure.errorClass == .retryable || failure.errorClass == .rateLimited
                        guard transient, failure.attempt < (policy.max_attempts ?? 3) else { return .pass }
                        return .retry(afterMilliseconds: max(100, failure.retryAfterMilliseconds))
                    }
                }
                """
        default:
            body = """
                struct @NAME@: AnalyzerPlugin {
                    static let id = "@ID@"
                    static let version = "0.1.0"
                    static let summary = "@SUMMARY@"

                    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

                    /// Splits text on ASCII whitespace; each token's bytes are its place in the text.
                    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into sink: inout TokenSink) throws {
                        var start = 0
                        var position = 0
                        for index in 0...text.count {
                            let space = index == text.count || [9, 10, 13, 32].contains(text[index])
                            guard space else { continue }
                            if index > start {
                                guard sink.emit(UnsafeBufferPointer(rebasing: text[start..<index]), position: position,
                                                bytes: start..<index) else { return }
                                position += 1
                            }
                            start = index + 1
                        }
                    }
                }
                """
        }
        return """
            import TrellisSDK

            /// @SUMMARY@
            \(body)

            @_cdecl("trellis_plugin_entry")
            public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(@NAME@.self) }

            """
    }
}
