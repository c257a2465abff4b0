import TrellisCore

/// libFuzzer's entry: any bytes as a workflow file. The loader must answer
/// every input with a workflow or problems: never crash, hang or exhaust memory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkflowLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = WorkflowLoader().load(text: text, file: "fuzz.yaml")
    return 0
}
