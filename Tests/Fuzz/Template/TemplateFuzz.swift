import TrellisCore

/// libFuzzer's entry: any bytes as a `${{ }}` template, parsed and, when it
/// parses, rendered against a run's values. Neither may crash or hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let template = try? Template(parsing: text) else { return 0 }
    let values: [String: JSONValue] = [
        "inputs": ["n": 3, "name": "web", "list": [1, "two", ["three": 3]]],
        "steps": ["a": ["output": ["text": "hi", "items": [1, 2, 3]], "status": "succeeded"]],
        "run": ["id": "r-1"],
    ]
    _ = template.render { values[$0] }
    return 0
}
