import Testing
import TrellisCore

@Suite struct JSONSchemaTests {
    let schema: JSONSchema

    init() throws {
        schema = try JSONSchema([
            "type": "object",
            "required": ["url"],
            "additionalProperties": false,
            "properties": [
                "url": ["type": "string", "pattern": "^https?://", "minLength": 8],
                "retries": ["type": "integer", "minimum": 0, "maximum": 10],
                "ratio": ["type": "number", "exclusiveMaximum": 1],
                "mode": ["enum": ["fast", "safe"]],
                "tags": ["type": "array", "items": ["type": "string"], "uniqueItems": true, "maxItems": 3],
                "target": ["$ref": "#/$defs/target"],
            ],
            "$defs": ["target": ["type": "object", "required": ["host"], "properties": ["host": ["type": "string"]]]],
        ])
    }

    @Test func validValuePasses() {
        #expect(schema.validate(["url": "https://example.com", "retries": 3, "ratio": 0.5, "mode": "safe",
                                 "tags": ["a", "b"], "target": ["host": "h"]]) == [])
    }

    @Test func everyViolationIsReportedWithItsPath() {
        let violations = schema.validate(["retries": 11.5, "ratio": 1, "mode": "slow", "tags": ["a", "a", "b", "c"],
                                          "target": [:], "urll": "x"])
        let byPath = Dictionary(grouping: violations, by: \.path).mapValues { $0.map(\.message) }
        #expect(byPath[""]?.contains("missing required field 'url'") == true)
        #expect(byPath["/retries"] == ["expected integer, got number"])
        #expect(byPath["/ratio"] == ["must be less than 1"])
        #expect(byPath["/mode"] == ["must be one of \"fast\", \"safe\""])
        #expect(byPath["/tags"]?.count == 2)
        #expect(byPath["/target"] == ["missing required field 'host'"])
        #expect(byPath["/urll"] == ["unknown field 'urll' (did you mean 'url'?)"])
    }

    @Test func patternAndLengths() throws {
        let messages = schema.validate(["url": "ftp://x"]).map(\.message)
        #expect(messages.contains("must match the pattern ^https?://"))
        #expect(messages.contains("must be at least 8 characters long"))
        // One is singular.
        let one = try JSONSchema(["type": "object", "properties": ["name": ["type": "string", "minLength": 1]],
                                  "minProperties": 1])
        #expect(one.validate(["name": ""]).map(\.message) == ["must be at least 1 character long"])
        #expect(one.validate([:]).map(\.message) == ["must have at least 1 field"])
    }

    @Test func integersAreNumbers() {
        let number = try! JSONSchema(["type": "number"])
        #expect(number.validate(3) == [])
        #expect(number.validate("3").first?.message == "expected number, got string")
    }

    @Test func combinators() throws {
        let either = try JSONSchema(["oneOf": [["type": "string"], ["type": "integer"]]])
        #expect(either.validate("a") == [])
        #expect(either.validate(true).count == 1)
        let not = try JSONSchema(["not": ["type": "null"]])
        #expect(not.validate(.null).count == 1)
    }

    @Test func unknownKeywordsAreRefused() {
        #expect(throws: SchemaError.self) { try JSONSchema(["type": "object", "propertees": [:]]) }
        #expect(throws: SchemaError.self) { try JSONSchema("not a schema") }
    }

    @Test func suggestionsOnlyForNearMisses() {
        #expect(closest(to: "enabeld", in: ["enabled", "required"]) == "enabled")
        #expect(closest(to: "colour", in: ["path", "label"]) == nil)
        #expect(editDistance("kitten", "sitting") == 3)
    }

    /// Found by the manifest fuzzer: a bound past Int64 trapped when its
    /// violation was described (a hostile manifest could stop the host).
    @Test func aBoundPastInt64IsDescribedNotConverted() throws {
        let schema = try JSONSchema(["type": "array", "minItems": 2e58])
        let violations = schema.validate([1, 2])
        #expect(violations.first?.message.contains("2e+58") == true, "\(violations)")
        #expect(try JSONSchema(["type": "string", "maxLength": -1e300]).validate("x").count == 1)
    }

    @Test func propertyCountsAreEnforcedAndFormatIsAnAnnotation() throws {
        let schema = try JSONSchema(["type": "object", "minProperties": 1, "maxProperties": 2])
        #expect(schema.validate([:]).first?.message.contains("at least 1") == true)
        #expect(schema.validate(["a": 1, "b": 2, "c": 3]).first?.message.contains("at most 2") == true)
        #expect(schema.validate(["a": 1]).isEmpty)
        // `format` is read and not checked (an annotation, as the schema page says).
        #expect(try JSONSchema(["type": "string", "format": "email"]).validate("not an address").isEmpty)
    }
}
