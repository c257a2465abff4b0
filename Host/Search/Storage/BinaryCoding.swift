import Foundation

/// Appends little-endian numbers, arrays and strings to a byte buffer: the
/// segment file's writer.
struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: Double) { write(value.bitPattern) }

    mutating func write(_ string: String) {
        write(UInt32(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }

    mutating func write(_ array: [UInt32]) {
        write(UInt64(array.count))
        array.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ array: [Double]) {
        write(UInt64(array.count))
        array.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ array: [UInt8]) {
        write(UInt64(array.count))
        bytes.append(contentsOf: array)
    }

    mutating func write(_ table: ByteTable) {
        write(table.bytes)
        write(table.offsets)
    }
}

/// Reads what `BinaryWriter` wrote, checking every length against what is
/// left: a damaged or cut file is an error, never a crash.
struct BinaryReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func take(_ count: Int) throws(SearchError) -> Range<Int> {
        guard count >= 0, count <= bytes.count - offset else {
            throw .damaged("a segment file ends early (wanted \(count) bytes at \(offset) of \(bytes.count))")
        }
        defer { offset += count }
        return offset..<(offset + count)
    }

    mutating func uint32() throws(SearchError) -> UInt32 {
        let range = try take(4)
        return bytes[range].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }

    mutating func uint64() throws(SearchError) -> UInt64 {
        let range = try take(8)
        return bytes[range].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    mutating func double() throws(SearchError) -> Double { Double(bitPattern: try uint64()) }

    mutating func string() throws(SearchError) -> String {
        let count = Int(try uint32())
        return String(decoding: bytes[try take(count)], as: UTF8.self)
    }

    private mutating func count(_ width: Int) throws(SearchError) -> Int {
        let count = try uint64()
        guard count <= UInt64((bytes.count - offset) / width) else {
            throw .damaged("a segment file holds an array longer than the file (\(count) items)")
        }
        return Int(count)
    }

    mutating func uint32s() throws(SearchError) -> [UInt32] {
        let count = try count(4)
        let range = try take(count * 4)
        return [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[range]))
            }
            initialized = count
        }
    }

    mutating func doubles() throws(SearchError) -> [Double] {
        let count = try count(8)
        let range = try take(count * 8)
        return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[range]))
            }
            initialized = count
        }
    }

    mutating func bytesArray() throws(SearchError) -> [UInt8] {
        let count = try count(1)
        return Array(bytes[try take(count)])
    }

    mutating func table() throws(SearchError) -> ByteTable {
        let table = ByteTable(bytes: try bytesArray(), offsets: try uint32s())
        try table.check()
        return table
    }
}

/// Many byte strings in one buffer: item `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
struct ByteTable: Sendable {
    var bytes: [UInt8] = []
    var offsets: [UInt32] = [0]

    var count: Int { offsets.count - 1 }

    mutating func append<S: Sequence<UInt8>>(_ item: S) {
        bytes.append(contentsOf: item)
        offsets.append(UInt32(bytes.count))
    }

    func range(_ index: Int) -> Range<Int> { Int(offsets[index])..<Int(offsets[index + 1]) }

    func string(_ index: Int) -> String { String(decoding: bytes[range(index)], as: UTF8.self) }

    /// Compares item `index` with `key` as bytes.
    func compare(_ index: Int, _ key: [UInt8]) -> Int {
        let range = range(index)
        return bytes.withUnsafeBufferPointer { buffer in
            key.withUnsafeBufferPointer { key in
                let common = min(range.count, key.count)
                let result = common == 0 ? 0 : memcmp(buffer.baseAddress! + range.lowerBound, key.baseAddress!, common)
                if result != 0 { return Int(result) }
                return range.count - key.count
            }
        }
    }

    /// The first index whose item is not less than `key` (items sorted).
    func lowerBound(_ key: [UInt8]) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if compare(middle, key) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The index of `key`, if it is an item (items sorted).
    func find(_ key: [UInt8]) -> Int? {
        let index = lowerBound(key)
        return index < count && compare(index, key) == 0 ? index : nil
    }

    func hasPrefix(_ index: Int, _ prefix: [UInt8]) -> Bool {
        let range = range(index)
        return range.count >= prefix.count && bytes[range.lowerBound..<(range.lowerBound + prefix.count)].elementsEqual(prefix)
    }

    func check() throws(SearchError) {
        guard let first = offsets.first, first == 0 else { throw .damaged("a string table does not start at 0") }
        var previous: UInt32 = 0
        for offset in offsets {
            guard offset >= previous, Int(offset) <= bytes.count else { throw .damaged("a string table's offsets are out of order") }
            previous = offset
        }
    }
}
