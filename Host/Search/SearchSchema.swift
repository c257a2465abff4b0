import Foundation
import TrellisCore

/// An index's fields: what each holds, how it is analyzed and scored.
///
/// ```json
/// {"fields": {
///    "title":  {"type": "text", "analyzer": ["analyzer.english"], "boost": 2},
///    "body":   {"type": "text", "analyzer": ["analyzer.standard", "analyzer.english"], "stored": true},
///    "status": {"type": "keyword"},
///    "took":   {"type": "number"},
///    "at":     {"type": "date"}},
///  "id": "id"}
/// ```
public struct SearchSchema: Sendable, Equatable {
    public enum FieldType: String, Sendable, Codable {
        /// Analyzed into terms with positions; scored with BM25.
        case text
        /// Whole values: exact matches, filters, facets, sorting.
        case keyword
        /// A number: ranges, sorting.
        case number
        /// A point in time (ISO 8601 or seconds since 1970): ranges, sorting.
        case date
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var type: FieldType
        /// Whether the value is returned with hits (text fields: and highlighted).
        public var stored: Bool
        /// Text fields: a tokenizer plugin, then filter plugins.
        public var analyzer: [String]
        public var k1: Double
        public var b: Double
        public var boost: Double

        public init(name: String, type: FieldType, stored: Bool = true, analyzer: [String] = [], k1: Double = 1.2,
                    b: Double = 0.75, boost: Double = 1) {
            self.name = name
            self.type = type
            self.stored = stored
            self.analyzer = analyzer
            self.k1 = k1
            self.b = b
            self.boost = boost
        }
    }

    /// In the order they were declared (sorted by name when read from JSON).
    public var fields: [Field]
    /// The field that identifies a document; indexing a document with an id
    /// that is there replaces it.
    public var idField: String

    public init(fields: [Field], idField: String = "id") {
        self.fields = fields
        self.idField = idField
    }

    public func field(_ name: String) -> Field? { fields.first { $0.name == name } }
    public var textFields: [Field] { fields.filter { $0.type == .text } }

    /// The default analyzer chain of a text field that names none.
    public static let defaultAnalyzer = ["analyzer.standard"]

    /// Reads a schema, saying everything that is wrong with it.
    public static func parse(_ value: JSONValue) throws(SearchError) -> SearchSchema {
        var problems: [String] = []
        guard let object = value.objectValue else { throw .schema(["the schema is not a JSON object"]) }
        for key in object.keys where !["fields", "id"].contains(key) {
            problems.append("unknown key '\(key)' (a schema has fields and id)")
        }
        guard let fieldObjects = object["fields"]?.objectValue, !fieldObjects.isEmpty else {
            throw .schema(problems + ["fields: give at least one field, e.g. {\"body\": {\"type\": \"text\"}}"])
        }
        guard fieldObjects.count <= 256 else { throw .schema(["fields: at most 256 fields (there are \(fieldObjects.count))"]) }
        let idField = object["id"]?.stringValue ?? "id"
        var fields: [Field] = []
        for name in fieldObjects.keys.sorted() {
            let spec = fieldObjects[name]!
            guard Self.isValidName(name) else {
                problems.append("fields.\(name): a field name is letters, digits, '_' and '.', starting with a letter")
                continue
            }
            guard let specObject = spec.objectValue else {
                problems.append("fields.\(name): give an object, e.g. {\"type\": \"text\"}")
                continue
            }
            for key in specObject.keys where !["type", "stored", "analyzer", "k1", "b", "boost"].contains(key) {
                problems.append("fields.\(name): unknown key '\(key)'"
                                + (closest(to: key, in: ["type", "stored", "analyzer", "k1", "b", "boost"]).map { " (did you mean '\($0)'?)" } ?? ""))
            }
            guard let typeName = specObject["type"]?.stringValue, let type = FieldType(rawValue: typeName) else {
                problems.append("fields.\(name).type: one of text, keyword, number, date")
                continue
            }
            var field = Field(name: name, type: type, stored: specObject["stored"]?.boolValue ?? true)
            if type == .text {
                field.analyzer = specObject["analyzer"]?.arrayValue?.compactMap(\.stringValue) ?? Self.defaultAnalyzer
                if let single = specObject["analyzer"]?.stringValue { field.analyzer = [single] }
                if field.analyzer.isEmpty || field.analyzer.count > 8 {
                    problems.append("fields.\(name).analyzer: a tokenizer and at most 7 filters, as plugin ids")
                }
                for (key, range, keyPath) in [("k1", 0.0...10.0, \Field.k1), ("b", 0.0...1.0, \Field.b), ("boost", 0.0...1000.0, \Field.boost)] {
                    guard let raw = specObject[key] else { continue }
                    guard let number = raw.doubleValue, range.contains(number) else {
                        problems.append("fields.\(name).\(key): a number from \(range.lowerBound) to \(range.upperBound)")
                        continue
                    }
                    field[keyPath: keyPath] = number
                }
            } else if specObject["analyzer"] != nil {
                problems.append("fields.\(name).analyzer: only text fields are analyzed")
            }
            fields.append(field)
        }
        if fields.contains(where: { $0.name == idField }) {
            problems.append("fields.\(idField): the id field is not a field of its own; remove it from fields")
        }
        if !problems.isEmpty { throw .schema(problems) }
        return SearchSchema(fields: fields, idField: idField)
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 64 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }
    }

    public var json: JSONValue {
        var fieldsObject: [String: JSONValue] = [:]
        for field in fields {
            var spec: [String: JSONValue] = ["type": .string(field.type.rawValue), "stored": .bool(field.stored)]
            if field.type == .text {
                spec["analyzer"] = .array(field.analyzer.map(JSONValue.string))
                spec["k1"] = .number(field.k1)
                spec["b"] = .number(field.b)
                spec["boost"] = .number(field.boost)
            }
            fieldsObject[field.name] = .object(spec)
        }
        return .object(["fields": .object(fieldsObject), "id": .string(idField)])
    }
}
