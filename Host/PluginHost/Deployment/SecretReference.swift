import Foundation
import TrellisCore

/// Resolves secret references in config values: `${env:NAME}` reads an
/// environment variable, `${file:/path}` a file (trailing newline dropped).
/// Resolved values go to the plugin and nowhere else: never to output,
/// logs or errors.
public struct SecretResolver: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Resolves every reference in the strings of `value`. `pointer` is the
    /// value's JSON Pointer in the deployment config, and `locate` turns a
    /// pointer into a `file:line:column` for error messages.
    public func resolve(_ value: JSONValue, pluginID: String, at pointer: String,
                        locate: (String) -> String) throws(PluginLoadError) -> JSONValue {
        switch value {
        case .string(let string):
            return .string(try resolve(string, pluginID: pluginID, at: locate(pointer)))
        case .array(let items):
            var resolved: [JSONValue] = []
            for (index, item) in items.enumerated() {
                resolved.append(try resolve(item, pluginID: pluginID, at: "\(pointer)/\(index)", locate: locate))
            }
            return .array(resolved)
        case .object(let object):
            var resolved: [String: JSONValue] = [:]
            for (key, item) in object {
                resolved[key] = try resolve(item, pluginID: pluginID, at: "\(pointer)/\(YAMLDocument.escape(key))",
                                            locate: locate)
            }
            return .object(resolved)
        default:
            return value
        }
    }

    /// Resolves the references in one string.
    public func resolve(_ string: String, pluginID: String, at location: String) throws(PluginLoadError) -> String {
        guard string.contains("${") else { return string }
        var result = ""
        var rest = Substring(string)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw PluginLoadError(.configInvalid, pluginID: pluginID,
                                      message: "\(location): a secret reference is not closed with '}'",
                                      remedy: "Write references as ${env:NAME} or ${file:/path}")
            }
            let secret = try lookup(String(rest[start.upperBound..<end]), pluginID: pluginID, at: location)
            // Known to the one redactor from now on: never stored or printed.
            Redactor.shared.register(secret)
            result += secret
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    private func lookup(_ reference: String, pluginID: String, at location: String) throws(PluginLoadError) -> String {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard !name.isEmpty else {
                throw PluginLoadError(.secretMissing, pluginID: pluginID,
                                      message: "\(location): ${env:} names no environment variable",
                                      remedy: "Write ${env:NAME} with the variable's name")
            }
            guard let value = environment[name] else {
                throw PluginLoadError(.secretMissing, pluginID: pluginID,
                                      message: "\(location): the config refers to ${env:\(name)}, which is not set",
                                      remedy: "Set \(name) in the host's environment")
            }
            return value
        }
        if reference.hasPrefix("file:") {
            let path = String(reference.dropFirst(5))
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw PluginLoadError(.secretMissing, pluginID: pluginID,
                                      message: "\(location): the config refers to ${file:\(path)}, which cannot be read",
                                      remedy: "Create the file, or make it readable by the host's user")
            }
            return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }
        throw PluginLoadError(.configInvalid, pluginID: pluginID,
                              message: "\(location): unknown secret reference '${\(reference)}'",
                              remedy: "Write references as ${env:NAME} or ${file:/path}")
    }
}
