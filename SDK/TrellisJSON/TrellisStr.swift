import CTrellisABI

// The ABI's borrowed UTF-8 slices (`trellis_str_t`) and the struct-size
// checks, for the host and the SDK alike.

extension trellis_str_t {
    /// Copies the slice into a Swift string (invalid UTF-8 is repaired).
    public var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    /// The slice's bytes, borrowed: valid only while the call lasts.
    public var bytes: UnsafeRawBufferPointer {
        guard let ptr, len > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: ptr, count: len)
    }

    /// The slice's bytes, copied.
    public var byteArray: [UInt8] { Array(bytes) }

    /// A slice of permanently allocated memory holding `string` (with a
    /// terminating NUL); for descriptor and host tables that must outlive
    /// every call. Never freed.
    public static func permanent(_ string: String) -> trellis_str_t {
        let utf8 = Array(string.utf8)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        utf8.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { buffer.update(from: $0.baseAddress!, count: utf8.count) }
        }
        buffer[utf8.count] = 0
        return trellis_str_t(ptr: UnsafePointer(buffer), len: utf8.count)
    }
}

/// Calls `body` with a borrowed slice of `string`'s UTF-8 bytes.
@inlinable @inline(__always)
public func withABIString<R>(_ string: String, _ body: (trellis_str_t) throws -> R) rethrows -> R {
    var string = string
    return try string.withUTF8 { buffer in
        try body(trellis_str_t(ptr: UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self),
                               len: buffer.count))
    }
}

/// Calls `body` with a borrowed slice of `bytes`.
@inlinable @inline(__always)
public func withABIString<R>(bytes: [UInt8], _ body: (trellis_str_t) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { buffer in
        try body(trellis_str_t(ptr: buffer.baseAddress?.assumingMemoryBound(to: CChar.self), len: buffer.count))
    }
}

/// True when a struct the other side sized at `size` bytes contains the
/// field at `keyPath` (structs grow only at the end).
@inlinable @inline(__always)
public func has<T, F>(_ keyPath: KeyPath<T, F>, in size: UInt32) -> Bool {
    guard let offset = MemoryLayout<T>.offset(of: keyPath) else { return false }
    return offset + MemoryLayout<F>.size <= Int(size)
}

/// The size a struct must at least have: everything up to and including `last`.
public func minimumSize<T, F>(of _: T.Type, through last: KeyPath<T, F>) -> Int {
    MemoryLayout<T>.offset(of: last)! + MemoryLayout<F>.size
}
