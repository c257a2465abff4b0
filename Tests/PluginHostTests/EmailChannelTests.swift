import Foundation
import Testing
import TrellisCore
@testable import TrellisPluginHost

/// A real SMTP server (aiosmtpd, from Debian's python3-aiosmtpd) started by
/// the test; it writes each accepted message to a file.
final class SMTPServer {
    let process = Process()
    let port: Int
    let directory: String

    init(directory: String, arguments: [String] = []) throws {
        self.directory = directory
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["\(BuildProducts.packageRoot)/Tests/Servers/smtp_server.py", directory] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw SMTPServerError(description: "the SMTP server did not start (is python3-aiosmtpd installed? run .ci/setup)")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: a signal the child cannot have inherited as ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The messages received so far: envelope and raw data.
    func messages() throws -> [[String: Any]] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\($0)"))) as! [String: Any] }
    }
}

struct SMTPServerError: Error, CustomStringConvertible {
    var description: String
}

@Suite struct EmailChannelTests {
    func email(_ deployment: StampedDeployment, port: Int, password: String = "s3cret-pass",
               egress: String = "127.0.0.1") throws -> PluginInstance {
        try deployment.load("channel.email",
                            config: "{ url: \"smtp://127.0.0.1:\(port)\", from: \"Trellis <trellis@example.com>\", username: mailer }",
                            secrets: ["password": password], egress: egress)
    }

    /// The base64 body that follows the headers containing `marker`.
    func decodedPart(after marker: String, in data: String) -> String? {
        guard let start = data.range(of: marker) else { return nil }
        let rest = data[start.upperBound...]
        guard let blank = rest.range(of: "\r\n\r\n") else { return nil }
        let body = rest[blank.upperBound...].prefix { $0 != "-" }
        let base64 = body.replacingOccurrences(of: "\r\n", with: "")
        return Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aMessageArrivesWithItsPartsAttachmentAndHeaders() throws {
        let deployment = try StampedDeployment()
        let server = try SMTPServer(directory: deployment.directory.file(""), arguments: ["--user", "mailer", "--password", "s3cret-pass"])
        let channel = try email(deployment, port: server.port)
        let subject = "Déploiement échoué ✓"
        let receipt = try channel.send([
            "to": ["Ops <ops@example.com>", "dev@example.com"], "cc": "lead@example.com", "subject": .string(subject),
            "text": "The deploy failed.", "html": "<p>The deploy <b>failed</b>.</p>",
            "attachments": [["filename": "report.csv", "content_type": "text/csv", "content": "step,status\ndeploy,failed\n"]],
        ], context: PluginCallContext(idempotencyKey: "r-7/mail", runID: "r-7", stepID: "mail"))
        #expect(receipt["id"] == "<r-7.mail@example.com>")
        #expect(receipt["status"] == "sent")

        let message = try #require(try server.messages().first)
        #expect(message["mail_from"] as? String == "trellis@example.com")
        #expect(message["rcpt_tos"] as? [String] == ["ops@example.com", "dev@example.com", "lead@example.com"])
        #expect(message["auth_user"] as? String == "mailer", "it authenticated")
        let data = try #require(message["data"] as? String)
        #expect(data.contains("From: Trellis <trellis@example.com>\r\n"))
        #expect(data.contains("To: Ops <ops@example.com>, dev@example.com\r\n"))
        #expect(data.contains("Cc: lead@example.com\r\n"))
        #expect(data.contains("Message-ID: <r-7.mail@example.com>\r\n"))
        #expect(data.range(of: #"Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n"#, options: .regularExpression) != nil)
        let encodedSubject = try #require(data.range(of: #"Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?="#, options: .regularExpression))
        let subjectBase64 = data[encodedSubject].dropFirst("Subject: =?UTF-8?B?".count).dropLast(2)
        #expect(Data(base64Encoded: String(subjectBase64)).map { String(decoding: $0, as: UTF8.self) } == subject)
        #expect(data.contains("multipart/mixed"))
        #expect(data.contains("multipart/alternative"))
        #expect(decodedPart(after: "Content-Type: text/plain; charset=utf-8", in: data) == "The deploy failed.")
        #expect(decodedPart(after: "Content-Type: text/html; charset=utf-8", in: data) == "<p>The deploy <b>failed</b>.</p>")
        #expect(decodedPart(after: "Content-Disposition: attachment; filename=\"report.csv\"", in: data) == "step,status\ndeploy,failed\n")
    }

    @Test func serverRefusalsMapToErrorClasses() throws {
        let deployment = try StampedDeployment()
        let server = try SMTPServer(directory: deployment.directory.file(""), arguments: [
            "--user", "mailer", "--password", "s3cret-pass",
            "--reject-rcpt", "gone@example.com:550", "--reject-rcpt", "busy@example.com:451",
        ])
        let channel = try email(deployment, port: server.port)
        func failure(_ to: String) throws -> PluginCallError {
            try #require(throws: PluginCallError.self) {
                try channel.send(["to": .string(to), "subject": "x", "text": "y"], context: PluginCallContext(idempotencyKey: to))
            }
        }
        #expect(try failure("gone@example.com").errorClass == .permanent)
        #expect(try failure("busy@example.com").errorClass == .retryable)

        let wrongPassword = try email(try StampedDeployment(), port: server.port, password: "wrong")
        let refused = try #require(throws: PluginCallError.self) {
            try wrongPassword.send(["to": "ops@example.com", "subject": "x", "text": "y"], context: .none)
        }
        #expect(refused.errorClass == .config)
        #expect(!refused.message.contains("s3cret-pass") && !refused.message.contains("wrong"), "no password in the message")
        #expect(try server.messages().isEmpty)
    }

    @Test func badMessagesAndEgressAreRefusedBeforeSending() throws {
        let deployment = try StampedDeployment()
        let server = try SMTPServer(directory: deployment.directory.file(""))
        let channel = try email(deployment, port: server.port)
        let noAddress = try #require(throws: PluginCallError.self) {
            try channel.send(["to": "not an address", "subject": "x", "text": "y"], context: .none)
        }
        #expect(noAddress.errorClass == .config)
        let elsewhere = try email(try StampedDeployment(), port: server.port, egress: "smtp.example.com")
        let refused = try #require(throws: PluginCallError.self) {
            try elsewhere.send(["to": "ops@example.com", "subject": "x", "text": "y"], context: .none)
        }
        #expect(refused.message.contains("egress refused"))
        #expect(try server.messages().isEmpty)
    }
}
