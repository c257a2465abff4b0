import Foundation
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// Calls through every interface into the real bundled plugins.
@Suite struct PluginCallTests {
    func instance(_ product: String, config: JSONValue = [:], secrets: [String: String] = [:]) throws -> PluginInstance {
        let library = try PluginLibrary.open(path: BuildProducts.library(product))
        return try PluginInstance(library: library, configuration: config, secrets: secrets, logger: testLogger)
    }

    @Test func descriptorsOfTheStarterPlugins() throws {
        let expected: [(String, String, PluginKind, String)] = [
            ("TrellisChannelStdout", "channel.stdout", .channel, "trellis.channel/1"),
            ("TrellisAnalyzerWhitespace", "analyzer.whitespace", .analyzer, "trellis.analyzer/1"),
            ("TrellisProviderOffline", "provider.offline", .provider, "trellis.provider/1"),
            ("TrellisRecoveryFixedDelay", "recovery.fixed-delay", .recovery, "trellis.recovery/1"),
        ]
        for (product, id, kind, interface) in expected {
            let info = try PluginLibrary.open(path: BuildProducts.library(product)).info
            #expect(info.id == id)
            #expect(info.kind == kind)
            #expect(info.abi == ABIVersion.host)
            #expect(info.interfaces.contains(interface))
            #expect(info.interfaces.contains("trellis.health/1"))
        }
    }

    @Test func channelWritesJSONLinesWithTheIdempotencyKey() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("out.jsonl")
        let channel = try instance("TrellisChannelStdout", config: ["path": .string(path)])
        let context = PluginCallContext(idempotencyKey: "run-1/notify/1", runID: "run-1", stepID: "notify")
        let receipt = try channel.send(["text": "hello", "user_id": 7], context: context)
        #expect(receipt["id"] == "run-1/notify/1")
        #expect(receipt["status"] == "delivered")
        _ = try channel.send(["text": "again"], context: context)

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONValue(json: Data(lines[0].utf8))
        #expect(first["idempotency_key"] == "run-1/notify/1")
        #expect(first["message"] == ["text": "hello", "user_id": 7])
    }

    @Test func channelRejectsABadConfigWithAConfigError() throws {
        do {
            _ = try instance("TrellisChannelStdout", config: ["path": "/nonexistent-dir/x/out.jsonl"])
            Issue.record("create should fail for an unwritable path")
        } catch let error as PluginLoadError {
            #expect(error.code == .createFailed)
            #expect(error.message.contains("cannot open '/nonexistent-dir/x/out.jsonl'"))
        }
        let channel = try PluginLibrary.open(path: BuildProducts.library("TrellisChannelStdout"))
        #expect(throws: PluginCallError.self) { try channel.validateChannelConfig(["path": ""]) }
        #expect(throws: PluginCallError.self) { try channel.validateChannelConfig(["path": 12]) }
        try channel.validateChannelConfig(["path": "/tmp/ok.jsonl"])
    }

    @Test func analyzerTokensCarryPositionsAndByteOffsets() throws {
        let analyzer = try instance("TrellisAnalyzerWhitespace", config: ["max_token_length": 4])
        let tokens = try analyzer.tokens(of: "  Héllo WORLD\tand\nmore ")
        #expect(tokens.map(\.term) == ["hél", "worl", "and", "more"])  // cut at 4 bytes
        #expect(tokens.map(\.position) == [0, 1, 2, 3])
        #expect(tokens[0].bytes == 2..<8)   // "Héllo" is 6 bytes in UTF-8
        #expect(tokens[1].bytes == 9..<14)
        // A cut never splits a UTF-8 sequence: "é" is 2 bytes, so 2 bytes of "Hé" keep only "h".
        let short = try instance("TrellisAnalyzerWhitespace", config: ["max_token_length": 2])
        #expect(try short.tokens(of: "Hé").map(\.term) == ["h"])
        var seen = 0
        try analyzer.tokenize("a b c d") { _ in seen += 1; return seen < 2 }
        #expect(seen == 2, "returning false stops the stream")
    }

    @Test func providerAnswersStreamsAndListsModels() throws {
        let provider = try instance("TrellisProviderOffline", config: ["replies": ["ping": "pong and more"]])
        var chunks: [String] = []
        let response = try provider.complete(["model": "offline-echo", "messages": [["role": "user", "content": "ping"]]]) {
            chunks.append($0)
            return true
        }
        #expect(response["text"] == "pong and more")
        #expect(chunks == ["pong", " and", " more"])
        #expect(response["usage"]?["output_tokens"] == 3)

        let echoed = try provider.complete(["model": "", "messages": [["role": "user", "content": "say hi"]],
                                            "max_tokens": 2])
        #expect(echoed["text"] == "echo: say")
        #expect(echoed["finish_reason"] == "length")
        #expect(try provider.models()["models"]?.arrayValue?.first?["id"] == "offline-echo")
    }

    @Test func providerErrorsAreClassified() throws {
        let provider = try instance("TrellisProviderOffline")
        do {
            _ = try provider.complete(["model": "gpt-9", "messages": [["role": "user", "content": "x"]]])
            Issue.record("an unknown model must fail")
        } catch {
            #expect(error.errorClass == .config)
            #expect(error.message.contains("gpt-9"))
        }
        do {
            _ = try provider.complete(["messages": "not a list"])
            Issue.record("a malformed request must fail")
        } catch {
            #expect(error.errorClass == .config)
        }
    }

    @Test func recoveryDecidesOnTheErrorClass() throws {
        let retry = try instance("TrellisRecoveryFixedDelay", config: ["delay_ms": 250, "max_attempts": 2])
        #expect(try retry.decide(RecoveryFailure(errorClass: .retryable, message: "reset", attempt: 1))
                == .retry(afterMilliseconds: 250))
        #expect(try retry.decide(RecoveryFailure(errorClass: .rateLimited, retryAfterMilliseconds: 4000, message: "429",
                                                 attempt: 1)) == .retry(afterMilliseconds: 4000))
        #expect(try retry.decide(RecoveryFailure(errorClass: .retryable, message: "reset", attempt: 2)) == .pass)
        #expect(try retry.decide(RecoveryFailure(errorClass: .permanent, message: "404", attempt: 1)) == .pass)
        // A step's policy overrides the deployment's defaults.
        #expect(try retry.decide(RecoveryFailure(errorClass: .retryable, message: "reset", attempt: 2,
                                                 policy: ["max_attempts": 5, "delay_ms": 10]))
                == .retry(afterMilliseconds: 10))
        #expect(try retry.admit(attempt: 1) == .proceed(attemptTimeoutMilliseconds: nil))
        try retry.record(key: "k", result: nil, durationMilliseconds: 3)
    }

    @Test func recoveryRejectsAnImpossibleConfig() throws {
        #expect(throws: PluginLoadError.self) { try instance("TrellisRecoveryFixedDelay", config: ["max_attempts": 0]) }
    }

    @Test func callingTheWrongKindIsAClearError() throws {
        let analyzer = try instance("TrellisAnalyzerWhitespace")
        do {
            _ = try analyzer.send(["text": "x"])
            Issue.record("an analyzer is not a channel")
        } catch {
            #expect(error.message.contains("not a channel"))
        }
    }

    @Test func healthChecksPass() throws {
        for product in ["TrellisChannelStdout", "TrellisAnalyzerWhitespace", "TrellisProviderOffline",
                        "TrellisRecoveryFixedDelay"] {
            let plugin = try instance(product)
            #expect(plugin.hasHealthCheck)
            try plugin.checkHealth()
        }
    }

    @Test func aPluginBuiltAgainstTheFrozen10HeaderStillWorks() throws {
        let frozen = try instance("TrellisFixtureFrozen10")
        #expect(frozen.info.abi == ABIVersion(major: 1, minor: 0, patch: 0))
        #expect(try frozen.tokens(of: "a,bb,,c").map(\.term) == ["a", "bb", "c"])
        #expect(!frozen.hasHealthCheck, "1.0 plugins may lack optional interfaces")
        try frozen.checkHealth()
    }

    @Test func aProviderBuiltAgainstTheFrozen12HeadersStillWorks() throws {
        // Its provider table ends before `embed`, its errors before `reason`.
        let frozen = try instance("TrellisFixtureFrozen12")
        #expect(frozen.info.abi == ABIVersion(major: 1, minor: 2, patch: 0))
        #expect(!frozen.embeds, "a 1.2 table has no embed function, and the host reads no further")
        let refused = try #require(throws: PluginCallError.self) { try frozen.embed(["input": ["x"]]) }
        #expect(refused.errorClass == .config)
        let pieces = Mutex<[String]>([])
        let answer = try frozen.complete(["messages": [["role": "user", "content": "hello"]]],
                                         onChunk: { piece in pieces.withLock { $0.append(piece) }; return true })
        #expect(answer["text"] == "frozen: hello")
        #expect(pieces.withLock { $0 } == ["frozen:", " ", "hello"])
        let failed = try #require(throws: PluginCallError.self) {
            try frozen.complete(["messages": [["role": "user", "content": "fail"]]])
        }
        #expect(failed.errorClass == .retryable)
        #expect(failed.message == "the frozen provider fails on request")
        #expect(failed.reason == nil, "a 1.2 error has no reason, and the host reads none past its size")
        #expect(try frozen.models()["models"] == [["id": "frozen-1-2"]])
        let shapeless = try #require(throws: PluginCallError.self) {
            try frozen.complete(["messages": [["role": "user", "content": "shape"]]])
        }
        #expect(shapeless.errorClass == .permanent)
        #expect(shapeless.message.contains("its text is integer, not a string"), "\(shapeless.message)")
    }

    @Test func aCompletionIsCheckedFieldByField() {
        let good: JSONValue = ["model": "m", "text": "hi", "finish_reason": "stop", "usage": ["input_tokens": 1, "output_tokens": 2]]
        #expect(PluginInstance.completionProblem(good) == nil)
        #expect(PluginInstance.completionProblem("hi") == "it is string, not an object")
        #expect(PluginInstance.completionProblem(["text": "hi", "usage": ["input_tokens": 1, "output_tokens": 1]]) == "it has no finish_reason")
        #expect(PluginInstance.completionProblem(["text": "hi", "finish_reason": "stop"])?.contains("no usage") == true)
        #expect(PluginInstance.completionProblem(["text": "", "finish_reason": "stop", "usage": ["input_tokens": -1, "output_tokens": 0]])?
            .contains("usage.input_tokens") == true)
        #expect(PluginInstance.completionProblem(["text": "", "finish_reason": "stop", "usage": ["input_tokens": 0, "output_tokens": 0],
                                                  "tool_calls": [["name": "f"]]]) == "its tool_calls[0] has no string id and name")
    }

    @Test func singleThreadedPluginsAreNeverCalledConcurrently() throws {
        // The same fixture body, once declaring itself single-threaded and once not;
        // it reports an error whenever two calls overlap on one instance.
        func overlaps(_ product: String) throws -> Int {
            let plugin = try instance(product)
            let failures = Mutex(0)
            // Real threads, as the runner uses: GCD may run fewer at once under load.
            let finished = DispatchSemaphore(value: 0)
            for _ in 0..<4 {
                Thread {
                    for _ in 0..<50 {
                        do { _ = try plugin.tokens(of: "x") } catch { failures.withLock { $0 += 1 } }
                    }
                    finished.signal()
                }.start()
            }
            for _ in 0..<4 { finished.wait() }
            return failures.withLock { $0 }
        }
        #expect(try overlaps("TrellisFixtureSingleThreaded") == 0)
        #expect(try overlaps("TrellisFixtureDuplicateId") > 0, "without the flag, calls do overlap: the check is live")
    }
}

import Synchronization
