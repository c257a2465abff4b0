import TrellisJSON

/// The shape of a workflow file, checked before anything else so that a
/// misspelt field is reported at its line with a suggestion.
let workflowSchema: JSONSchema = {
    let durationValue: JSONValue = ["type": ["string", "number"]]
    let recoveryEntry: JSONValue = [
        "type": "object", "additionalProperties": false, "required": ["uses"],
        "properties": ["uses": ["type": "string", "minLength": 1], "with": ["type": "object"]],
    ]
    let step: JSONValue = [
        "type": "object", "additionalProperties": false, "required": ["id", "uses"],
        "properties": [
            "id": ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"],
            "name": ["type": "string"],
            "uses": ["type": "string", "minLength": 1],
            "with": ["type": "object"],
            "needs": ["type": ["array", "string"], "items": ["type": "string"]],
            "if": ["type": ["string", "boolean"]],
            "timeout": durationValue,
            "priority": ["enum": .array(Priority.allCases.map { .string($0.rawValue) })],
            "recovery": ["type": "array", "items": recoveryEntry],
            "concurrency": ["type": "string", "minLength": 1],
            "cache": ["type": "object", "additionalProperties": false, "required": ["ttl"], "properties": ["ttl": durationValue]],
            "continue_on_error": ["type": "boolean"],
        ],
    ]
    let trigger: JSONValue = [
        "type": "object", "additionalProperties": false,
        "properties": [
            "cron": ["type": "string"],
            "timezone": ["type": "string"],
            "interval": durationValue,
            "at": ["type": "string"],
            "after": ["type": "string"],
            "on": ["enum": .array(TriggerSpec.AfterCondition.allCases.map { .string($0.rawValue) })],
            "manual": ["type": ["boolean", "object", "null"]],
            "catch_up": ["enum": .array(TriggerSpec.CatchUp.allCases.map { .string($0.rawValue) })],
            "overlap": ["enum": .array(TriggerSpec.Overlap.allCases.map { .string($0.rawValue) })],
            "inputs": ["type": "object"],
        ],
    ]
    let input: JSONValue = [
        "type": "object", "additionalProperties": false,
        "properties": [
            "type": ["enum": .array(InputSpec.Kind.allCases.map { .string($0.rawValue) })],
            "default": [:],
            "required": ["type": "boolean"],
            "description": ["type": "string"],
        ],
    ]
    let root: JSONValue = [
        "type": "object", "additionalProperties": false, "required": ["name", "steps"],
        "properties": [
            // A workflow name appears in URLs, logs and cache keys: a safe identifier.
            "name": ["type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"],
            "description": ["type": "string"],
            "inputs": ["type": "object", "additionalProperties": input],
            "triggers": ["type": "array", "items": trigger],
            "steps": ["type": "array", "minItems": 1, "items": step],
            "concurrency": ["type": "object", "additionalProperties": false,
                            "properties": ["max_active_runs": ["type": "integer", "minimum": 1]]],
        ],
    ]
    // A constant written above; valid by construction.
    return try! JSONSchema(root)
}()
