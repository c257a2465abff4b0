/// Unicode full case folding (CaseFolding.txt, statuses C and F): what
/// makes "Straße", "STRASSE" and "strasse" one term.
public enum CaseFolding {
    /// Appends the folding of `scalar` to `output`.
    @inline(__always)
    public static func fold(_ scalar: UInt32, into output: inout [UInt32]) {
        if scalar < 0x80 {
            output.append(scalar >= 0x41 && scalar <= 0x5A ? scalar + 0x20 : scalar)
            return
        }
        let keys = UnicodeTables.foldKeys
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < scalar { low = middle + 1 } else { high = middle }
        }
        guard low < keys.count, keys[low] == scalar else {
            output.append(scalar)
            return
        }
        let value = UnicodeTables.foldValues[low]
        guard value & 0x8000_0000 != 0 else {
            output.append(value)
            return
        }
        let start = Int(value & 0x7FFF_FFFF)
        let count = Int(UnicodeTables.foldExpansions[start])
        output.append(contentsOf: UnicodeTables.foldExpansions[(start + 1)...(start + count)])
    }

    public static func fold(_ text: String) -> String {
        var output: [UInt32] = []
        for scalar in text.unicodeScalars { fold(scalar.value, into: &output) }
        return String(String.UnicodeScalarView(output.compactMap(Unicode.Scalar.init)))
    }
}
