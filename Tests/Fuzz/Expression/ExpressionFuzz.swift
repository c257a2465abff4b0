import TrellisCore

/// libFuzzer's entry: any bytes as an expression (the text inside `${{ }}`
/// or an `if:`), parsed and, when it parses, evaluated against a run's
/// values. Neither may crash or hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExpression(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let expression = try? Expression.parse(text) else { return 0 }
    let values: [String: JSONValue] = [
        "inputs": ["n": 3, "name": "web", "a b": [1, "two"], "list": [1, "two", ["three": 3]]],
        "steps": ["fetch": ["output": ["text": "hi", "items": [1, 2, ["name": "x"]]], "status": "succeeded"]],
        "run": ["id": "r-1"],
        "secrets": ["TOKEN": "s3cret"],
    ]
    _ = expression.evaluate { values[$0] }
    _ = expression.referencedSteps
    return 0
}
