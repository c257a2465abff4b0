import CTrellisABI

// The host's side of the ABI's borrowed UTF-8 slices.

extension trellis_str_t {
    var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    var byteArray: [UInt8] {
        guard let ptr, len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: len))
    }

    /// A slice of permanently allocated memory (for host tables).
    static func permanent(_ string: String) -> trellis_str_t {
        let utf8 = Array(string.utf8)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: utf8.count + 1, alignment: 1)
        buffer.copyMemory(from: utf8 + [0], byteCount: utf8.count + 1)
        return trellis_str_t(ptr: UnsafePointer(buffer.assumingMemoryBound(to: CChar.self)), len: utf8.count)
    }
}

@inline(__always)
func withABIString<R>(_ string: String, _ body: (trellis_str_t) throws -> R) rethrows -> R {
    var string = string
    return try string.withUTF8 { buffer in
        try body(trellis_str_t(ptr: UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self),
                               len: buffer.count))
    }
}

@inline(__always)
func withABIString<R>(bytes: [UInt8], _ body: (trellis_str_t) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { buffer in
        try body(trellis_str_t(ptr: buffer.baseAddress?.assumingMemoryBound(to: CChar.self), len: buffer.count))
    }
}

/// True when a struct sized `size` by the other side contains `keyPath`.
@inline(__always)
func has<T, F>(_ keyPath: KeyPath<T, F>, in size: UInt32) -> Bool {
    guard let offset = MemoryLayout<T>.offset(of: keyPath) else { return false }
    return offset + MemoryLayout<F>.size <= Int(size)
}

/// The size a struct must at least have: everything up to and including `last`.
func minimumSize<T, F>(of _: T.Type, through last: KeyPath<T, F>) -> Int {
    MemoryLayout<T>.offset(of: last)! + MemoryLayout<F>.size
}
