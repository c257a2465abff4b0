import TrellisJSON

extension WorkflowValidator {
    /// A `uses: ai` step's `with:` (docs/providers.md, "Workflow steps").
    static let aiSchema: JSONSchema = {
        let message: JSONValue = [
            "type": "object", "required": ["role"],
            "properties": ["role": ["enum": ["system", "user", "assistant", "tool"]], "content": ["type": "string"]],
        ]
        let root: JSONValue = [
            "type": "object",
            "additionalProperties": false,
            "required": ["model"],
            "properties": [
                "model": ["type": "string", "minLength": 1],
                "prompt": ["type": "string"],
                "system": ["type": "string"],
                "messages": ["type": "array", "minItems": 1, "items": message],
                "max_tokens": ["type": "integer", "minimum": 1],
                "temperature": ["type": "number", "minimum": 0, "maximum": 2],
                "top_p": ["type": "number", "minimum": 0, "maximum": 1],
                "stop": ["type": "array", "items": ["type": "string"]],
                "tools": ["type": "array", "items": ["type": "object", "required": ["name"]]],
                "tool_choice": [:],
                "schema": ["type": "object"],
                "repair_attempts": ["type": "integer", "minimum": 0, "maximum": 5],
                "stream": ["type": "boolean"],
                "cache": ["type": "boolean"],
                "ensemble": [
                    "type": "object", "additionalProperties": false, "required": ["models"],
                    "properties": [
                        "models": ["type": "array", "minItems": 2, "maxItems": 16, "items": ["type": "string", "minLength": 1]],
                        "pick": ["enum": ["majority", "first-k", "judge"]],
                        "k": ["type": "integer", "minimum": 1],
                        "judge": ["type": "string", "minLength": 1],
                    ],
                ],
            ],
        ]
        // The schema is a constant written above; it is valid by construction.
        return try! JSONSchema(root)
    }()
}
