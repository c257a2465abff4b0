import Testing
import TrellisCore
@testable import TrellisPluginHost

/// A channel's answer must be a delivery receipt: queued, sent or delivered.
@Suite struct ReceiptTests {
    @Test(arguments: [
        (JSONValue.object(["id": "x", "status": "bogus"]), #"its status is "bogus", not queued, sent or delivered"#),
        (JSONValue.object(["id": "x"]), "it has no status (queued, sent or delivered)"),
        (JSONValue.object(["id": 3, "status": "sent"]), "its id is integer, not a string"),
        (JSONValue.array([]), "it is array, not an object"),
    ])
    func aReceiptThatIsNotOneIsRefusedNamingTheField(receipt: JSONValue, problem: String) {
        #expect(PluginInstance.receiptProblem(receipt) == problem)
    }

    @Test func realReceiptsPass() {
        for status in ["queued", "sent", "delivered"] {
            #expect(PluginInstance.receiptProblem(["id": "k", "status": .string(status), "detail": [:]]) == nil)
        }
        #expect(PluginInstance.receiptProblem(["status": "delivered"]) == nil)
    }
}
