import CTrellisABI
import TrellisJSON

/// The analyzer table of a plugin that only tokenizes, and of one that is
/// also a token filter (`filter` set).
nonisolated(unsafe) let analyzerTable: UnsafeRawPointer = makeAnalyzerTable(filter: false)
nonisolated(unsafe) let filterAnalyzerTable: UnsafeRawPointer = makeAnalyzerTable(filter: true)

private func makeAnalyzerTable(filter offersFilter: Bool) -> UnsafeRawPointer {
    let table = UnsafeMutablePointer<trellis_analyzer_v1_t>.allocate(capacity: 1)
    table.initialize(to: trellis_analyzer_v1_t(
        struct_size: UInt32(MemoryLayout<trellis_analyzer_v1_t>.size),
        tokenize: { instance, text, hostData, onToken, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let analyzer = box.analyzer, let onToken else {
                return reply.fail(missingInstance)
            }
            var sink = tokenSink { token in onToken(hostData, token) }
            return reply.perform("tokenize failed") {
                try analyzer.tokenize(text.byteBuffer, into: &sink)
                return nil
            }
        },
        filter: offersFilter ? { instance, text, tokens, count, hostData, onToken, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let analyzer = box.analyzer, let onToken,
                  tokens != nil || count == 0 else {
                return reply.fail(missingInstance)
            }
            var terms: [UnsafeBufferPointer<UInt8>] = [], positions: [Int] = [], ranges: [Range<Int>] = []
            terms.reserveCapacity(count)
            positions.reserveCapacity(count)
            ranges.reserveCapacity(count)
            for index in 0..<count {
                let token = tokens![index]
                terms.append(token.term.byteBuffer)
                positions.append(Int(token.position))
                ranges.append(Int(token.start_byte)..<Int(max(token.start_byte, token.end_byte)))
            }
            var sink = tokenSink { token in onToken(hostData, token) }
            return reply.perform("filter failed") {
                try analyzer.filter(InputTokens(terms: terms, positions: positions, ranges: ranges), text: text.byteBuffer, into: &sink)
                return nil
            }
        } : nil,
        tokenize_batch: { instance, texts, count, hostData, onToken, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let analyzer = box.analyzer, let onToken,
                  texts != nil || count == 0 else {
                return reply.fail(missingInstance)
            }
            return reply.perform("tokenize failed") {
                var stopped = false
                for index in 0..<count where !stopped {
                    var sink = tokenSink { token in
                        let more = onToken(hostData, UInt32(index), token) == 0
                        if !more { stopped = true }
                        return more ? 0 : 1
                    }
                    try analyzer.tokenize(texts![index].byteBuffer, into: &sink)
                }
                return nil
            }
        }))
    return UnsafeRawPointer(table)
}

/// A sink that hands each token to `deliver` as the ABI's struct; a nonzero
/// answer stops the call.
private func tokenSink(_ deliver: @escaping (UnsafeMutablePointer<trellis_token_t>) -> Int32) -> TokenSink {
    TokenSink { term, position, start, end in
        let abiTerm = trellis_str_t(ptr: UnsafeRawPointer(term.baseAddress)?.assumingMemoryBound(to: CChar.self), len: term.count)
        var token = trellis_token_t(term: abiTerm, position: position, start_byte: start, end_byte: end)
        return deliver(&token) == 0
    }
}

extension trellis_str_t {
    var byteBuffer: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: ptr.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }, count: len)
    }
}
