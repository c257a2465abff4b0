import CCurl
import Foundation
import Synchronization
import Testing
import TrellisCore
import TrellisTestSupport
@testable import TrellisPluginHost

/// The host's HTTP client against real servers on 127.0.0.1.
@Suite struct HTTPClientTests {
    let client = HTTPClient()
    let local = EgressPolicy(pluginID: "test.plugin", declared: ["127.0.0.1"], allowed: nil)

    @Test func aRequestCarriesItsHeadersAndBodyAndConnectionsAreReused() throws {
        let seen = Mutex<[LoopbackHTTPServer.Request]>([])
        let server = try LoopbackHTTPServer { request in
            seen.withLock { $0.append(request) }
            return .init(status: 201, headers: [("X-Request-Id", "r-1")], text: "{\"ok\":true}")
        }
        for index in 0..<3 {
            let response = try client.perform(HTTPRequest(
                method: "POST", url: "\(server.url)/hooks/\(index)",
                headers: [HTTPHeader("Content-Type", "application/json")], body: Array("{\"n\":\(index)}".utf8)), egress: local)
            #expect(response.status == 201)
            #expect(response.errorClass == nil)
            #expect(response.header("x-request-id") == "r-1")
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"ok\":true}")
        }
        let requests = seen.withLock { $0 }
        #expect(requests.map(\.target) == ["/hooks/0", "/hooks/1", "/hooks/2"])
        #expect(requests.map(\.text) == ["{\"n\":0}", "{\"n\":1}", "{\"n\":2}"])
        #expect(requests.first?.header("Content-Type") == "application/json")
        #expect(requests.first?.header("Expect") == nil, "no 100-continue round trip")
        #expect(requests.first?.header("User-Agent")?.hasPrefix("trellis/") == true)
        #expect(server.connectionsAccepted == 1, "one connection served all three requests")
    }

    @Test func statusesAreClassifiedForTheRecoveryPipeline() throws {
        let server = try LoopbackHTTPServer { request in
            switch request.target {
            case "/429": .init(status: 429, headers: [("Retry-After", "7")], text: "slow down")
            case "/503-after": .init(status: 503, headers: [("Retry-After", "2")], text: "")
            case "/503": .init(status: 503, text: "")
            case "/500": .init(status: 500, text: "")
            case "/404": .init(status: 404, text: "")
            case "/401": .init(status: 401, text: "")
            default: .init(status: 204)
            }
        }
        func classify(_ path: String) throws -> (ErrorClass?, UInt64) {
            let response = try client.perform(HTTPRequest(url: server.url + path), egress: local)
            return (response.errorClass, response.retryAfterMilliseconds)
        }
        #expect(try classify("/429") == (.rateLimited, 7000))
        #expect(try classify("/503-after") == (.rateLimited, 2000))
        #expect(try classify("/503") == (.retryable, 0))
        #expect(try classify("/500") == (.retryable, 0))
        #expect(try classify("/404") == (.permanent, 0))
        #expect(try classify("/401") == (.config, 0))
        #expect(try classify("/ok") == (nil, 0))
    }

    @Test func retryAfterAsAnHTTPDate() {
        let now = 1_800_000_000.0
        let date = Date(timeIntervalSince1970: now + 30)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(HTTPClassification.retryAfter(formatter.string(from: date), now: now) == 30_000)
        #expect(HTTPClassification.retryAfter("soon", now: now) == nil)
    }

    @Test func egressOutsideTheAllowListIsRefusedBeforeAnyConnection() throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200) }
        let narrow = EgressPolicy(pluginID: "channel.webhook", declared: ["*"], allowed: ["hooks.example.com"])
        let error = try #require(throws: HTTPError.self) {
            try client.perform(HTTPRequest(url: server.url), egress: narrow)
        }
        #expect(error.errorClass == .config)
        #expect(error.message.contains("the deployment lets channel.webhook reach only hooks.example.com, not 127.0.0.1:\(server.port)"))
        #expect(error.message.contains("plugins.channel.webhook.egress"))

        let unlisted = EgressPolicy(pluginID: "channel.webhook", declared: ["*"], allowed: nil)
        #expect(throws: HTTPError.self) { try client.perform(HTTPRequest(url: server.url), egress: unlisted) }
        let manifestOnly = EgressPolicy(pluginID: "channel.slack", declared: ["hooks.slack.com"], allowed: nil)
        let refused = try #require(throws: HTTPError.self) { try client.perform(HTTPRequest(url: server.url), egress: manifestOnly) }
        #expect(refused.message.contains("its manifest's permissions.egress"))
        #expect(server.connectionsAccepted == 0)

        let withPort = EgressPolicy(pluginID: "p", declared: ["*"], allowed: ["127.0.0.1:\(server.port)"])
        #expect(try client.perform(HTTPRequest(url: server.url), egress: withPort).status == 200)
        func allows(_ entry: String, _ host: String, _ port: Int) -> Bool {
            EgressPolicy(pluginID: "p", declared: [entry], allowed: nil).refusal(host: host, port: port) == nil
        }
        #expect(allows("*.example.com", "a.b.example.com", 443))
        #expect(!allows("*.example.com", "example.com.evil.net", 443))
        #expect(!allows("127.0.0.1:80", "127.0.0.1", 8080))
    }

    @Test func onlyHTTPAndHTTPSAreAllowed() throws {
        let error = try #require(throws: HTTPError.self) {
            try client.perform(HTTPRequest(url: "file:///etc/passwd"), egress: .unrestricted)
        }
        #expect(error.errorClass == .config)
        #expect(try #require(throws: HTTPError.self) { try client.perform(HTTPRequest(url: "not a url")) }.errorClass == .config)
    }

    @Test func aRefusedConnectionIsRetryable() throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200) }
        let url = server.url
        server.stop()
        let error = try #require(throws: HTTPError.self) { try client.perform(HTTPRequest(url: url), egress: local) }
        #expect(error.errorClass == .retryable)
    }

    @Test func aHangingServerTimesOutAndACancelledCallStops() throws {
        let server = try LoopbackHTTPServer { _ in
            Thread.sleep(forTimeInterval: 3)
            return .init(status: 200)
        }
        let timedOut = try #require(throws: HTTPError.self) {
            try client.perform(HTTPRequest(url: server.url, timeoutSeconds: 0.2), egress: local)
        }
        #expect(timedOut.errorClass == .retryable)
        #expect(timedOut.message.contains("timed out"))

        let token = CancellationToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { token.cancel() }
        let started = Date()
        let cancelled = try #require(throws: HTTPError.self) {
            try client.perform(HTTPRequest(url: server.url), egress: local, cancellation: token)
        }
        #expect(cancelled.errorClass == .cancelled)
        #expect(Date().timeIntervalSince(started) < 2.5, "it stopped long before the server answered")

        let past = currentUnixMilliseconds() - 1
        let late = try #require(throws: HTTPError.self) {
            try client.perform(HTTPRequest(url: server.url), egress: local, deadlineUnixMilliseconds: past)
        }
        #expect(late.errorClass == .cancelled)
    }

    @Test func sizeLimitsHoldBothWays() throws {
        var settings = HTTPSettings()
        settings.maxResponseBytes = 1000
        settings.maxRequestBytes = 100
        let limited = HTTPClient(settings: settings)
        let server = try LoopbackHTTPServer { _ in .init(status: 200, body: [UInt8](repeating: 65, count: 5000)) }
        let large = try #require(throws: HTTPError.self) { try limited.perform(HTTPRequest(url: server.url), egress: local) }
        #expect(large.errorClass == .permanent)
        #expect(large.message.contains("larger than the limit of 1000 bytes"))
        let tooBig = try #require(throws: HTTPError.self) {
            try limited.perform(HTTPRequest(method: "POST", url: server.url, body: [UInt8](repeating: 1, count: 101)), egress: local)
        }
        #expect(tooBig.errorClass == .config)
    }

    /// libcurl is opened at the first request; a library that is missing,
    /// or that lacks a function the host calls, is refused with its name.
    @Test func libcurlIsOpenedByNameAndAMissingOneIsNamed() {
        var error = [CChar](repeating: 0, count: 512)
        func message() -> String { String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #expect(trellis_curl_probe("libcurl-trellis-absent.so.4", &error, error.count) == -1)
        #expect(message().contains("libcurl-trellis-absent.so.4"), "\(message())")
        #expect(trellis_curl_probe("libm.so.6", &error, error.count) == -1)
        #expect(message() == "libm.so.6 has no curl_global_init (libcurl 7.62 or later is needed)")
        #expect(trellis_curl_probe("libcurl.so.4", &error, error.count) == 0)
        #expect(Curl.explain("it is gone").hasSuffix("it is gone. Install it (on Debian: apt-get install libcurl4)"))
    }
}

extension HTTPClientTests {
    /// A server that answers with something that is not HTTP is a passing
    /// fault of the server (retryable), not the admin's (config).
    @Test func anAnswerThatIsNotHTTPIsRetryable() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        #expect(listen(listener, 1) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let served = Thread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(client, &buffer, buffer.count)
            let garbage = Array("SSH-2.0-OpenSSH_9.2 not http at all\r\n\r\n".utf8)
            _ = write(client, garbage, garbage.count)
            close(client)
        }
        served.start()
        do {
            _ = try client.perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/", headers: [], body: []), egress: local)
            Issue.record("a garbage answer was taken for a response")
        } catch {
            #expect(error.errorClass == .retryable, "\(error)")
            #expect(error.message.contains("the server's answer is not HTTP"), "\(error.message)")
        }
    }
}
