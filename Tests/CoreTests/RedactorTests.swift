import Testing
import TrellisCore

@Suite struct RedactorTests {
    @Test func registeredSecretsAndTheirCaseVariantsAreMasked() {
        let redactor = Redactor()
        #expect(redactor.redact("nothing registered") == "nothing registered")
        redactor.register("Hunter2-Token")
        redactor.register("abc")   // too short to be a secret: left alone
        #expect(redactor.redact("Bearer Hunter2-Token, again hunter2-token and HUNTER2-TOKEN") == "Bearer ***, again *** and ***")
        #expect(redactor.redact("abc") == "abc")
        let value: JSONValue = ["k": "x Hunter2-Token", "Hunter2-Token": ["list", "hunter2-token"], "n": 3]
        #expect(redactor.redact(value) == ["k": "x ***", "***": ["list", "***"], "n": 3])
        #expect(redactor.reveals("…Hunter2-Token…"))
        #expect(!redactor.reveals("clean"))
    }

    @Test func aSecretContainingAnotherIsMaskedWhole() {
        let redactor = Redactor()
        redactor.register("inner")
        redactor.register("outer-inner-outer")
        #expect(redactor.redact("outer-inner-outer and inner") == "*** and ***")
    }
}
