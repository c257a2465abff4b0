import CTrellisABI
import TrellisJSON

nonisolated(unsafe) let analyzerTable: UnsafeRawPointer = {
    let table = UnsafeMutablePointer<trellis_analyzer_v1_t>.allocate(capacity: 1)
    table.initialize(to: trellis_analyzer_v1_t(
        struct_size: UInt32(MemoryLayout<trellis_analyzer_v1_t>.size),
        tokenize: { instance, text, hostData, onToken, reply in
            let reply = Reply(raw: reply)
            guard let box = InstanceBox.from(instance), let analyzer = box.analyzer, let onToken else {
                return reply.fail(missingInstance)
            }
            var sink = TokenSink { term, position, start, end in
                let abiTerm = trellis_str_t(ptr: UnsafeRawPointer(term.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                            len: term.count)
                var token = trellis_token_t(term: abiTerm, position: position, start_byte: start, end_byte: end)
                return onToken(hostData, &token) == 0
            }
            let input = UnsafeBufferPointer(start: text.ptr.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) },
                                            count: text.len)
            return reply.perform("tokenize failed") {
                try analyzer.tokenize(input, into: &sink)
                return nil
            }
        }))
    return UnsafeRawPointer(table)
}()
