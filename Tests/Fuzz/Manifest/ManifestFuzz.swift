import Foundation
import TrellisCore
import TrellisPluginHost

/// libFuzzer's entry: any bytes as a plugin manifest. When it is accepted,
/// its config and input schemas are applied to a few values, as the host
/// does with a deployment's config and a step's inputs. Nothing may crash
/// or hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    guard let manifest = try? PluginManifest.parse(bytes, path: "fuzz/1.0.0.json") else { return 0 }
    let samples: [JSONValue] = [[:], ["model": "m", "messages": [["role": "user", "content": "hi"]]], "text", 42, .null]
    for schema in [manifest.configSchema, manifest.inputSchema].compactMap({ $0 }) {
        guard let compiled = try? JSONSchema(schema) else { continue }
        for sample in samples { _ = compiled.validate(sample) }
    }
    return 0
}
