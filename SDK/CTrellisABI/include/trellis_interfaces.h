/*
 * trellis_interfaces.h — the interface tables a plugin offers by kind: channel,
 * provider, recovery, analyzer, and the optional health probe.
 * Part of the Trellis plugin ABI; include trellis_plugin.h, which includes
 * this file. The ABI's rules are in trellis_plugin.h and docs/abi.md.
 */
#ifndef TRELLIS_INTERFACES_H
#define TRELLIS_INTERFACES_H

#include "trellis_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Interfaces. Each table starts with struct_size; function pointers marked
 * (optional) may be NULL, the others are required.
 * ------------------------------------------------------------------------- */

/* trellis.channel/1 — delivers a notification. */
#define TRELLIS_INTERFACE_CHANNEL_V1 "trellis.channel/1"
typedef struct trellis_channel_v1 {
    uint32_t struct_size;
    /* Checks a configuration beyond its JSON Schema (e.g. reachable formats)
     * without creating an instance. (optional) THREADING: [thread-safe]. */
    trellis_status_t (*validate_config)(trellis_str_t config_json, const trellis_reply_t *reply);
    /* Sends `message_json`; on success outputs a delivery receipt
     * {"id": "...", "status": "sent"|"delivered"|"queued", ...}.
     * THREADING: [any-thread]. */
    trellis_status_t (*send)(trellis_instance_t *instance, const trellis_call_context_t *context,
                             trellis_str_t message_json, const trellis_reply_t *reply);
} trellis_channel_v1_t;

/* trellis.provider/1 — answers an AI model request. */
#define TRELLIS_INTERFACE_PROVIDER_V1 "trellis.provider/1"
typedef struct trellis_chunk_sink {
    uint32_t struct_size;
    void *host_data;
    /* Receives one piece of streamed text; copies it. Returns nonzero to ask
     * the plugin to stop streaming. THREADING: [in-call]. */
    int32_t (*chunk)(void *host_data, trellis_str_t text);
} trellis_chunk_sink_t;

typedef struct trellis_provider_v1 {
    uint32_t struct_size;
    /* Completes `request_json`: {"model", "messages": [{"role", "content",
     * "tool_calls"?, "tool_call_id"?}], "max_tokens"?, "temperature"?, and
     * since 1.3 "top_p"?, "stop"?: [..], "tools"?: [{"name", "description",
     * "parameters"}], "tool_choice"?: "auto" | "none" | "required" |
     * {"name"}, "response_format"?: {"type": "json_object"} | {"type":
     * "json_schema", "name", "schema"}}. Outputs {"model", "text",
     * "finish_reason", "usage": {"input_tokens", "output_tokens"}} and since
     * 1.3 "tool_calls"?: [{"id", "name", "arguments"}] (arguments a JSON
     * value). When `stream` is not NULL the plugin also passes text pieces
     * to it as they arrive. A failure after some text was streamed should
     * carry the reason "stream_broken" unless it has a better one.
     * THREADING: [any-thread]. */
    trellis_status_t (*complete)(trellis_instance_t *instance, const trellis_call_context_t *context,
                                 trellis_str_t request_json, const trellis_chunk_sink_t *stream,
                                 const trellis_reply_t *reply);
    /* Outputs {"models": [{"id", ...}]}. THREADING: [any-thread]. */
    trellis_status_t (*list_models)(trellis_instance_t *instance, const trellis_call_context_t *context,
                                    const trellis_reply_t *reply);
    /* Since 1.3; NULL when the provider has no embedding models. Embeds
     * `request_json` {"model", "input": ["text", ...]}; outputs {"model",
     * "embeddings": [[number, ...], ...] (one per input, in order),
     * "usage": {"input_tokens"}}. THREADING: [any-thread]. */
    trellis_status_t (*embed)(trellis_instance_t *instance, const trellis_call_context_t *context,
                              trellis_str_t request_json, const trellis_reply_t *reply);
} trellis_provider_v1_t;

/* trellis.recovery/1 — decides what happens around a step's attempts. */
#define TRELLIS_INTERFACE_RECOVERY_V1 "trellis.recovery/1"

typedef int32_t trellis_recovery_action_t;
enum {
    TRELLIS_RECOVERY_FAIL = 0,       /* give up: the failure stands */
    TRELLIS_RECOVERY_RETRY = 1,      /* try again after delay_ms */
    TRELLIS_RECOVERY_FALLBACK = 2,   /* run the target in the reply's output */
    TRELLIS_RECOVERY_USE_CACHED = 3, /* serve the last good output; since 1.2
                                      * reply->output may hold {"max_age_ms"}
                                      * (default: any age) */
    TRELLIS_RECOVERY_DEGRADE = 4,    /* complete with the reply's output and quality */
    TRELLIS_RECOVERY_PASS = 5        /* no opinion: ask the next strategy */
};

typedef struct trellis_failure {
    uint32_t struct_size;
    trellis_status_t error_class;
    uint64_t retry_after_ms;
    trellis_str_t message;
    uint32_t attempt;            /* the attempt that failed, from 1 */
    uint64_t elapsed_ms;         /* since the step's first attempt */
    trellis_str_t key;           /* state key: plugin id and target */
    trellis_str_t policy_json;   /* this strategy's parameters from the step */
} trellis_failure_t;

/* Host-owned; the plugin fills it in. */
typedef struct trellis_decision {
    uint32_t struct_size;
    trellis_recovery_action_t action;
    uint64_t delay_ms;           /* for RETRY */
    double quality;              /* for DEGRADE, in [0, 1] */
} trellis_decision_t;

typedef struct trellis_attempt {
    uint32_t struct_size;
    uint32_t attempt;
    uint64_t elapsed_ms;
    trellis_str_t key;
    trellis_str_t policy_json;
} trellis_attempt_t;

/* Host-owned; the plugin fills it in before an attempt starts. */
typedef struct trellis_admission {
    uint32_t struct_size;
    trellis_status_t reject_with;  /* TRELLIS_OK admits; else fail fast with this class */
    uint64_t delay_ms;             /* wait this long before starting */
    uint64_t attempt_timeout_ms;   /* 0: no per-attempt deadline */
} trellis_admission_t;

typedef struct trellis_outcome {
    uint32_t struct_size;
    trellis_str_t key;
    trellis_status_t result;     /* TRELLIS_OK or the error class */
    uint64_t duration_ms;
    trellis_str_t policy_json;   /* since 1.1: this strategy's parameters from the step */
} trellis_outcome_t;

typedef struct trellis_recovery_v1 {
    uint32_t struct_size;
    /* Decides after a failed attempt. Fills `decision`; detail for FALLBACK
     * ({"uses", "with"}) or DEGRADE (the output) goes through reply->output.
     * THREADING: [any-thread]. */
    trellis_status_t (*decide)(trellis_instance_t *instance, const trellis_call_context_t *context,
                               const trellis_failure_t *failure, trellis_decision_t *decision,
                               const trellis_reply_t *reply);
    /* Admits, delays or rejects an attempt before it starts; a rejection's
     * message goes through reply->error. Since 1.2 an admitted attempt may
     * be hedged: reply->output holds {"hedge": {"after_ms", "max", "uses"?,
     * "with"?}} — when the attempt has not answered after after_ms, the host
     * starts another call of the same attempt (against `uses` with `with`
     * when given), up to `max` more; the first success wins and the others
     * are cancelled. A 1.1 host ignores the plan. (optional)
     * THREADING: [any-thread]. */
    trellis_status_t (*before_attempt)(trellis_instance_t *instance, const trellis_call_context_t *context,
                                       const trellis_attempt_t *attempt, trellis_admission_t *admission,
                                       const trellis_reply_t *reply);
    /* Records how an attempt ended, for stateful strategies. (optional)
     * THREADING: [any-thread]. */
    void (*record_outcome)(trellis_instance_t *instance, const trellis_outcome_t *outcome);
} trellis_recovery_v1_t;

/* trellis.analyzer/1 — the search engine's hot path: no JSON here. */
#define TRELLIS_INTERFACE_ANALYZER_V1 "trellis.analyzer/1"

typedef struct trellis_token {
    trellis_str_t term;          /* plugin-owned, valid during the callback */
    uint32_t position;           /* token position, from 0 */
    uint32_t start_byte;         /* byte range in the input text */
    uint32_t end_byte;
} trellis_token_t;

/* Receives one token; copies what it keeps. Returns nonzero to stop.
 * THREADING: [in-call]. */
typedef int32_t (*trellis_token_fn)(void *host_data, const trellis_token_t *token);

/* Receives one token of texts[text_index] during tokenize_batch; copies
 * what it keeps. Returns nonzero to stop the whole batch.
 * THREADING: [in-call]. Since 1.4. */
typedef int32_t (*trellis_batch_token_fn)(void *host_data, uint32_t text_index, const trellis_token_t *token);

typedef struct trellis_analyzer_v1 {
    uint32_t struct_size;
    /* Splits `text` into tokens, calling `on_token` for each in order.
     * Errors go through reply->error. THREADING: [any-thread]. A plugin that
     * is only a token filter sets it to a function that fails with
     * TRELLIS_ERR_CONFIG, saying so. */
    trellis_status_t (*tokenize)(trellis_instance_t *instance, trellis_str_t text,
                                 void *host_data, trellis_token_fn on_token,
                                 const trellis_reply_t *reply);
    /* Since 1.4 (optional; NULL when the plugin is no filter). A token
     * filter, the second and later links of a field's analyzer chain: it
     * gets the `count` tokens the chain made of `text` so far, in order, and
     * calls `on_token` for each token it keeps, changes or adds, in order,
     * positions never decreasing; a token it drops is not passed on. Byte
     * ranges still refer to `text`. THREADING: [any-thread]. */
    trellis_status_t (*filter)(trellis_instance_t *instance, trellis_str_t text,
                               const trellis_token_t *tokens, size_t count,
                               void *host_data, trellis_token_fn on_token,
                               const trellis_reply_t *reply);
    /* Since 1.4 (optional). Tokenizes `count` texts in one call, as
     * `tokenize` would each, calling `on_token` with the index of the text
     * each token belongs to, texts in order. The host uses it to index many
     * documents per call; without it, the host calls `tokenize` per text.
     * THREADING: [any-thread]. */
    trellis_status_t (*tokenize_batch)(trellis_instance_t *instance, const trellis_str_t *texts, size_t count,
                                       void *host_data, trellis_batch_token_fn on_token,
                                       const trellis_reply_t *reply);
} trellis_analyzer_v1_t;

/* trellis.health/1 — an optional liveness probe any plugin may offer. The
 * host calls it for health reports; it must be cheap and must not block. */
#define TRELLIS_INTERFACE_HEALTH_V1 "trellis.health/1"
typedef struct trellis_health_v1 {
    uint32_t struct_size;
    /* Returns TRELLIS_OK when the instance can serve calls; otherwise the
     * class of the problem, with the reason through reply->error.
     * THREADING: [thread-safe]. */
    trellis_status_t (*check)(trellis_instance_t *instance, const trellis_reply_t *reply);
} trellis_health_v1_t;

#ifdef __cplusplus
}
#endif

#endif /* TRELLIS_INTERFACES_H */
