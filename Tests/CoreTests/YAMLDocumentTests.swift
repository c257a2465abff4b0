import Foundation
import Testing
import TrellisCore

@Suite struct YAMLDocumentTests {
    @Test func valuesAndTheirLocations() throws {
        let document = try YAMLDocument(text: """
            name: demo
            count: 3
            ratio: 0.5
            on: true
            empty:
            quoted: "42"
            list:
              - a
              - b: 1
            """, file: "w.yaml")
        #expect(document.value["name"] == "demo")
        #expect(document.value["count"] == 3)
        #expect(document.value["ratio"] == 0.5)
        #expect(document.value["on"] == true)
        #expect(document.value["empty"] == .null)
        #expect(document.value["quoted"] == "42", "a quoted scalar stays a string")
        #expect(document.location(of: "/count").description == "w.yaml:2:1")
        #expect(document.location(of: "/list/1/b") == SourceLocation(file: "w.yaml", line: 9, column: 5))
        #expect(document.location(of: "/list/1/b/missing").line == 9, "falls back to the nearest parent")
    }

    @Test func syntaxErrorsHaveAPosition() {
        do {
            _ = try YAMLDocument(text: "a: [1, 2\nb: 3\n", file: "x.yaml")
            Issue.record("must fail")
        } catch {
            #expect(error.location.file == "x.yaml")
            #expect(error.location.line >= 1)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func duplicateKeysAreRefused() {
        do {
            _ = try YAMLDocument(text: "a: 1\nb: 2\na: 3\n", file: "d.yaml")
            Issue.record("must fail")
        } catch {
            #expect(error.message.contains("'a' appears twice"))
            #expect(error.location.line == 3)
        }
    }

    @Test func jsonRoundTrip() throws {
        let value: JSONValue = ["b": [1, 2.5, "x", nil, true], "a": ["nested": "yes"]]
        #expect(value.jsonString() == #"{"a":{"nested":"yes"},"b":[1,2.5,"x",null,true]}"#)
        #expect(try JSONValue(json: value.jsonBytes()) == value)
        let tricky: JSONValue = ["s": "quote \" slash \\ newline \n tab \t bell \u{07} é 😀", "n": 0.1, "big": 1e300]
        #expect(try JSONValue(json: tricky.jsonBytes()) == tricky)
        #expect(try JSONValue(json: tricky.jsonBytes(pretty: true)) == tricky)
        #expect(JSONValue.number(.infinity).jsonString() == "null")
    }
}

@Suite struct JSONParserTests {
    @Test func parsesWhatJSONAllows() throws {
        #expect(try JSONValue(json: Array(#"{"a":[1,-2.5e3,true,false,null],"b":{"c":"\u00e9\ud83d\ude00\n\"x\""}}"#.utf8))
                == ["a": [1, -2500, true, false, nil], "b": ["c": "é😀\n\"x\""]])
        #expect(try JSONValue(json: Array("  [ ]  ".utf8)) == [])
        #expect(try JSONValue(json: Array("0".utf8)) == 0)
    }

    @Test(arguments: ["", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"open", "[1] 2", "{\"a\":tru}", "\"\\x\"",
                      "\"\\ud800\"", "nul", "[\"\u{01}\"]"])
    func refusesWhatItDoesNot(_ text: String) {
        #expect(throws: JSONParseError.self, "\(text)") { try JSONValue(json: Array(text.utf8)) }
    }

    @Test func agreesWithFoundationOnARoundTrip() throws {
        let value: JSONValue = ["list": [1.5, "two", ["three": nil]], "unicode": "naïve ☃", "n": 123456789012]
        let foundation = try JSONSerialization.jsonObject(with: Data(value.jsonBytes())) as? [String: Any]
        #expect(foundation?["unicode"] as? String == "naïve ☃")
        #expect(try JSONValue(json: value.jsonBytes()) == value)
    }
}
