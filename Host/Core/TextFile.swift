import Foundation

/// Reading a text file a person gave (a workflow, the deployment config),
/// saying plainly what is wrong with it: it is missing, a directory, not
/// readable, too big, or not UTF-8 (with the offset of the first bad byte).
public enum TextFile {
    public static func read(_ path: String, maximumBytes: Int = YAMLLimits.standard.maximumBytes) throws(TextFileError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw TextFileError(path: path, message: errno == ENOENT ? "does not exist" : "cannot be read: \(String(cString: strerror(errno)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw TextFileError(path: path, message: "is a directory, not a file") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw TextFileError(path: path, message: "is not a regular file") }
        guard Int(info.st_size) <= maximumBytes else {
            throw TextFileError(path: path, message: "is \(info.st_size) bytes, more than the limit of \(maximumBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TextFileError(path: path, message: "cannot be read: \(String(cString: strerror(errno == 0 ? EIO : errno)))")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw TextFileError(path: path, message: "is not UTF-8 text (the first invalid byte is at offset \(firstInvalidByte(in: data)))")
        }
        return text
    }

    /// The offset where the first invalid UTF-8 sequence starts.
    static func firstInvalidByte(in data: Data) -> Int {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }
}

public struct TextFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path) \(message)" }
}
