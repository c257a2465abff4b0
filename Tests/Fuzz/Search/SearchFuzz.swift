import TrellisSearch

/// libFuzzer's entry: the first byte chooses what the rest is — a query for
/// the query parser, or a segment file's body (given a valid checksum) for
/// the segment reader. Neither may crash or hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSearch(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 0 {
        let text = String(decoding: rest, as: UTF8.self)
        for operatorChoice in [QueryParser.DefaultOperator.or, .and] {
            _ = try? QueryParser(defaultOperator: operatorChoice).parse(text)
        }
    } else {
        SegmentChecks.decode(body: rest)
    }
    return 0
}
