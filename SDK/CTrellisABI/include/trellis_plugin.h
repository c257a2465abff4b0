/*
 * trellis_plugin.h — the Trellis plugin ABI, version 1.2.0.
 *
 * 1.1 added the host services trellis.clock/1 and trellis.state/1, and
 * trellis_outcome_t.policy_json.
 * 1.2 added two replies of recovery strategies, both in reply->output: a
 * maximum age with TRELLIS_RECOVERY_USE_CACHED, and a hedging plan from
 * before_attempt; the host's classification of an HTTP response
 * (trellis_http_response_t.error_class, .retry_after_ms); and the host
 * service trellis.mail/1 (SMTP).
 *
 * This header is the whole contract between a Trellis host and a plugin.
 * It is plain C99 so that a plugin can be written in C, C++, Rust, Zig or
 * Swift. docs/abi.md explains every rule; the short form:
 *
 *  - A plugin exports exactly one symbol, `trellis_plugin_entry`, which
 *    returns a descriptor whose first field is the ABI version it was built
 *    against. A host loads it when the majors are equal and the plugin's
 *    minor is not newer than the host's.
 *  - Every struct starts with (or, for the descriptor, right after the
 *    version carries) its own `struct_size`. Structs only grow at the end
 *    within a major version; a reader uses only the fields that fit in the
 *    size it was given.
 *  - Interfaces are negotiated by string id (`trellis.channel/1`): the host
 *    asks `get_interface`, the plugin asks the host's `get_service`. An
 *    unknown id answers NULL.
 *  - OWNERSHIP: whoever allocates frees, through its own function. Results
 *    travel back through host callbacks (`trellis_reply_t`); the plugin
 *    never hands the host memory to free. Strings are UTF-8 `{ptr, len}`,
 *    not necessarily NUL-terminated.
 *  - THREADING: every function says when it may be called:
 *      [thread-safe]  from any thread, concurrently
 *      [any-thread]   from any thread, but not concurrently on one instance
 *                     when the plugin declares TRELLIS_PLUGIN_SINGLE_THREADED
 *      [init-only]    only while the instance is created or destroyed
 *      [in-call]      only from inside the call that received the pointer
 */
#ifndef TRELLIS_PLUGIN_H
#define TRELLIS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRELLIS_ABI_MAJOR 1
#define TRELLIS_ABI_MINOR 2
#define TRELLIS_ABI_PATCH 0

/* The one exported symbol's name. */
#define TRELLIS_PLUGIN_ENTRY_SYMBOL "trellis_plugin_entry"

#if defined(_WIN32)
#define TRELLIS_EXPORT __declspec(dllexport)
#else
#define TRELLIS_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------
 * Basic types
 * ------------------------------------------------------------------------- */

typedef struct trellis_abi_version {
    uint32_t major;
    uint32_t minor;
    uint32_t patch;
} trellis_abi_version_t;

/* A UTF-8 string slice. OWNERSHIP: borrowed; valid only for the duration of
 * the call it is passed to, unless the field says otherwise. */
typedef struct trellis_str {
    const char *ptr;
    size_t len;
} trellis_str_t;

/* Status of every call, and the class of an error. Fixed width. */
typedef int32_t trellis_status_t;
enum {
    TRELLIS_OK = 0,
    /* A transient failure: trying again may succeed. */
    TRELLIS_ERR_RETRYABLE = 1,
    /* The remote side asked to slow down; see retry_after_ms. */
    TRELLIS_ERR_RATE_LIMITED = 2,
    /* Trying again with the same input will fail the same way. */
    TRELLIS_ERR_PERMANENT = 3,
    /* The plugin's configuration (or a step's input) is wrong. */
    TRELLIS_ERR_CONFIG = 4,
    /* The call was cancelled or its deadline passed. */
    TRELLIS_ERR_CANCELLED = 5
};

typedef uint32_t trellis_plugin_kind_t;
enum {
    TRELLIS_KIND_CHANNEL = 1,
    TRELLIS_KIND_PROVIDER = 2,
    TRELLIS_KIND_RECOVERY = 3,
    TRELLIS_KIND_ANALYZER = 4
};

/* Descriptor flags. */
#define TRELLIS_PLUGIN_SINGLE_THREADED ((uint64_t)1 << 0)

/* A classified error. OWNERSHIP: borrowed by the receiver for the duration
 * of the callback it is passed to; the receiver copies what it keeps. */
typedef struct trellis_error {
    uint32_t struct_size;
    trellis_status_t code;       /* never TRELLIS_OK */
    uint64_t retry_after_ms;     /* meaningful for TRELLIS_ERR_RATE_LIMITED */
    trellis_str_t message;       /* what was wrong and what to do */
} trellis_error_t;

/* How results travel back to the host. The host owns this struct and
 * everything behind `host_data`. A call that returns TRELLIS_OK may call
 * `output` (at most once); a call that fails should call `error` once with
 * the same code it returns. Both copy their arguments before returning.
 * THREADING: [in-call] — only while the call that received it is running. */
typedef struct trellis_reply {
    uint32_t struct_size;
    void *host_data;
    void (*output)(void *host_data, trellis_str_t json);
    void (*error)(void *host_data, const trellis_error_t *error);
} trellis_reply_t;

/* Per-call context. OWNERSHIP: host-owned, borrowed for the call.
 * Strings may be empty (len 0) when not known (e.g. outside a run). */
typedef struct trellis_call_context {
    uint32_t struct_size;
    /* Stable across retries and host restarts of the same step attempt
     * sequence: a receiver may drop a repeated delivery carrying it. */
    trellis_str_t idempotency_key;
    trellis_str_t run_id;
    trellis_str_t step_id;
    uint32_t attempt;            /* 1 for the first attempt */
    /* Deadline as Unix time in milliseconds; 0 means none. Check it, and
     * cancellation, through the `trellis.cancel/1` host service. */
    int64_t deadline_unix_ms;
    /* Opaque host data used by host services; never dereference. */
    const void *host_token;
} trellis_call_context_t;

/* ---------------------------------------------------------------------------
 * Host services: the table a plugin receives at create time
 * ------------------------------------------------------------------------- */

typedef struct trellis_host trellis_host_t;

struct trellis_host {
    uint32_t struct_size;
    trellis_abi_version_t abi;   /* the host's ABI version */
    trellis_str_t host_version;  /* e.g. "0.1.0" */
    void *host_data;             /* opaque to plugins */
    /* Returns the service table for `service_id` ("trellis.log/1"...), or
     * NULL when the host does not offer it (or denies it to this plugin).
     * OWNERSHIP: the table is host-owned and lives until the instance is
     * destroyed. THREADING: [thread-safe]. */
    const void *(*get_service)(const trellis_host_t *host, trellis_str_t service_id);
};

#define TRELLIS_SERVICE_LOG "trellis.log/1"
#define TRELLIS_SERVICE_METRICS "trellis.metrics/1"
#define TRELLIS_SERVICE_SECRETS "trellis.secrets/1"
#define TRELLIS_SERVICE_CANCEL "trellis.cancel/1"
#define TRELLIS_SERVICE_HTTP "trellis.http/1"
#define TRELLIS_SERVICE_MAIL "trellis.mail/1"     /* since 1.2 */
#define TRELLIS_SERVICE_CLOCK "trellis.clock/1"   /* since 1.1 */
#define TRELLIS_SERVICE_STATE "trellis.state/1"   /* since 1.1 */

typedef int32_t trellis_log_level_t;
enum {
    TRELLIS_LOG_TRACE = 0,
    TRELLIS_LOG_DEBUG = 1,
    TRELLIS_LOG_INFO = 2,
    TRELLIS_LOG_WARNING = 3,
    TRELLIS_LOG_ERROR = 4
};

/* trellis.log/1 */
typedef struct trellis_log_service {
    uint32_t struct_size;
    /* OWNERSHIP: message borrowed, copied by the host. THREADING: [thread-safe]. */
    void (*log)(const trellis_host_t *host, trellis_log_level_t level, trellis_str_t message);
} trellis_log_service_t;

/* trellis.metrics/1 — names are prefixed with the plugin id by the host. */
typedef struct trellis_metrics_service {
    uint32_t struct_size;
    /* THREADING: [thread-safe] for all three. OWNERSHIP: name borrowed. */
    void (*counter_add)(const trellis_host_t *host, trellis_str_t name, int64_t delta);
    void (*gauge_set)(const trellis_host_t *host, trellis_str_t name, double value);
    void (*histogram_record)(const trellis_host_t *host, trellis_str_t name, double value);
} trellis_metrics_service_t;

/* Receives a borrowed string: copy it before returning. */
typedef void (*trellis_str_receiver_t)(void *user_data, trellis_str_t value);

/* trellis.secrets/1 — only the secrets the deployment config grants. */
typedef struct trellis_secrets_service {
    uint32_t struct_size;
    /* Looks up `name`; on success calls `receive` once with the value, which
     * is valid only during that callback (the plugin copies it, and should
     * wipe its copy when done). Returns TRELLIS_ERR_CONFIG when the secret is
     * unknown or not granted. THREADING: [thread-safe]. */
    trellis_status_t (*lookup)(const trellis_host_t *host, trellis_str_t name,
                               void *user_data, trellis_str_receiver_t receive);
} trellis_secrets_service_t;

/* trellis.cancel/1 */
typedef struct trellis_cancel_service {
    uint32_t struct_size;
    /* Nonzero when the call should stop: cancelled, or past its deadline.
     * THREADING: [thread-safe]; cheap enough to poll in a loop. */
    int32_t (*is_cancelled)(const trellis_host_t *host, const trellis_call_context_t *context);
    /* Milliseconds left before the deadline; INT64_MAX when there is none,
     * 0 when it has passed. THREADING: [thread-safe]. */
    int64_t (*remaining_ms)(const trellis_host_t *host, const trellis_call_context_t *context);
} trellis_cancel_service_t;

/* trellis.http/1 — egress is limited to the plugin's allow-list. */
typedef struct trellis_http_header {
    trellis_str_t name;
    trellis_str_t value;
} trellis_http_header_t;

typedef struct trellis_http_request {
    uint32_t struct_size;
    trellis_str_t method;                  /* "GET", "POST", ... */
    trellis_str_t url;
    const trellis_http_header_t *headers;  /* borrowed, `header_count` items */
    size_t header_count;
    trellis_str_t body;
    uint32_t timeout_ms;                   /* 0: the host's default */
} trellis_http_request_t;

typedef struct trellis_http_response {
    uint32_t struct_size;
    int32_t status;
    const trellis_http_header_t *headers;  /* host-owned, valid in callback */
    size_t header_count;
    trellis_str_t body;                    /* host-owned, valid in callback */
    /* Since 1.2: the host's classification of the status, for the recovery
     * pipeline: TRELLIS_OK for 1xx-3xx; TRELLIS_ERR_RATE_LIMITED for 429, and
     * for 503 with a Retry-After (then retry_after_ms is set); other 4xx
     * TRELLIS_ERR_PERMANENT (401/403: TRELLIS_ERR_CONFIG); other 5xx
     * TRELLIS_ERR_RETRYABLE. Read only when struct_size covers them. */
    trellis_status_t error_class;
    uint64_t retry_after_ms;
} trellis_http_response_t;

typedef struct trellis_http_service {
    uint32_t struct_size;
    /* Performs the request. On a response (any status) calls `on_response`
     * once and returns TRELLIS_OK; the response is valid only inside that
     * callback. On failure returns the error class (refused egress:
     * TRELLIS_ERR_CONFIG; connect failure or timeout: TRELLIS_ERR_RETRYABLE)
     * and reports the message through `reply->error` when reply is not NULL.
     * THREADING: [thread-safe]; blocks the calling thread. */
    trellis_status_t (*request)(const trellis_host_t *host, const trellis_call_context_t *context,
                                const trellis_http_request_t *request, void *user_data,
                                void (*on_response)(void *user_data, const trellis_http_response_t *response),
                                const trellis_reply_t *reply);
} trellis_http_service_t;

/* trellis.mail/1 (since 1.2) — sends one message over SMTP (smtp:// with
 * optional or required STARTTLS, or smtps://). Egress is limited to the
 * plugin's allow-list, like HTTP. */
typedef struct trellis_mail {
    uint32_t struct_size;
    trellis_str_t url;                   /* "smtp://host:port" or "smtps://host:port" */
    trellis_str_t username;              /* empty: no AUTH */
    trellis_str_t password;
    int32_t require_tls;                 /* nonzero: fail unless smtp:// upgrades with STARTTLS */
    trellis_str_t from;                  /* envelope sender (MAIL FROM) */
    const trellis_str_t *recipients;     /* borrowed, `recipient_count` items (RCPT TO) */
    size_t recipient_count;
    trellis_str_t message;               /* the whole RFC 5322 message: headers, blank line, body */
    uint32_t timeout_ms;                 /* 0: the host's default */
} trellis_mail_t;

typedef struct trellis_mail_service {
    uint32_t struct_size;
    /* Sends the message. Returns TRELLIS_OK when the server accepted it;
     * else the error class (refused egress or bad input: TRELLIS_ERR_CONFIG;
     * authentication refused: TRELLIS_ERR_CONFIG; connect failure, timeout
     * or a 4xx reply: TRELLIS_ERR_RETRYABLE; a 5xx reply:
     * TRELLIS_ERR_PERMANENT) with the message through `reply->error` when
     * reply is not NULL. THREADING: [thread-safe]; blocks the calling thread. */
    trellis_status_t (*send)(const trellis_host_t *host, const trellis_call_context_t *context,
                             const trellis_mail_t *mail, const trellis_reply_t *reply);
} trellis_mail_service_t;

/* trellis.clock/1 (since 1.1) — the host's time. Strategies that keep time
 * (breakers, rate limits) read it here so a host can run them on a test clock. */
typedef struct trellis_clock_service {
    uint32_t struct_size;
    /* Unix time in milliseconds. THREADING: [thread-safe]. */
    int64_t (*now_unix_ms)(const trellis_host_t *host);
} trellis_clock_service_t;

/* trellis.state/1 (since 1.1) — small values the host keeps for the plugin
 * across restarts (a breaker's state, say), each under a key of the
 * plugin's choosing, private to the plugin. */
typedef struct trellis_state_service {
    uint32_t struct_size;
    /* Calls `receive` once with the value stored under `key` (valid only
     * during the callback) and returns TRELLIS_OK; returns
     * TRELLIS_ERR_PERMANENT without calling it when there is none.
     * THREADING: [thread-safe]. */
    trellis_status_t (*load)(const trellis_host_t *host, trellis_str_t key, void *user_data,
                             trellis_str_receiver_t receive);
    /* Stores `value` (copied) under `key`, replacing what was there.
     * THREADING: [thread-safe]; may block briefly on the store. */
    trellis_status_t (*store)(const trellis_host_t *host, trellis_str_t key, trellis_str_t value);
} trellis_state_service_t;

/* ---------------------------------------------------------------------------
 * The plugin descriptor and instance lifecycle
 * ------------------------------------------------------------------------- */

/* A plugin-owned instance; opaque to the host. */
typedef struct trellis_instance trellis_instance_t;

typedef struct trellis_plugin_descriptor trellis_plugin_descriptor_t;

struct trellis_plugin_descriptor {
    trellis_abi_version_t abi;   /* MUST stay first: the ABI built against */
    uint32_t struct_size;        /* sizeof(trellis_plugin_descriptor_t) */
    /* OWNERSHIP: the descriptor and its strings are plugin-owned and live as
     * long as the library is loaded (static data). */
    trellis_str_t id;            /* "channel.stdout": kind, dot, name */
    trellis_plugin_kind_t kind;
    trellis_str_t version;       /* the plugin's semantic version */
    trellis_str_t description;
    uint64_t flags;              /* TRELLIS_PLUGIN_* */

    /* Returns the interface table for `interface_id`, or NULL. The table is
     * plugin-owned static data. THREADING: [thread-safe]. */
    const void *(*get_interface)(const trellis_plugin_descriptor_t *self, trellis_str_t interface_id);

    /* Creates an instance from `config_json` (already validated by the host
     * against the manifest's schema, secrets resolved). On success stores the
     * instance in *out_instance and returns TRELLIS_OK; on failure reports
     * the reason through reply->error and returns its code. `host` lives
     * until destroy. OWNERSHIP: the instance is plugin-owned and freed only
     * by `destroy`. THREADING: [init-only]. */
    trellis_status_t (*create)(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                               trellis_str_t config_json, trellis_instance_t **out_instance,
                               const trellis_reply_t *reply);

    /* Frees an instance. THREADING: [init-only]; no call is in flight. */
    void (*destroy)(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance);
};

/* The exported entry point. OWNERSHIP: returns plugin-owned static data.
 * THREADING: [thread-safe]; the host calls it once after dlopen. */
typedef const trellis_plugin_descriptor_t *(*trellis_plugin_entry_fn)(void);

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
    /* Completes `request_json` ({"model", "messages": [{"role","content"}],
     * "max_tokens"?, "temperature"?}); outputs {"model", "text",
     * "finish_reason", "usage": {"input_tokens","output_tokens"}}. When
     * `stream` is not NULL the plugin also passes text pieces to it as they
     * arrive. THREADING: [any-thread]. */
    trellis_status_t (*complete)(trellis_instance_t *instance, const trellis_call_context_t *context,
                                 trellis_str_t request_json, const trellis_chunk_sink_t *stream,
                                 const trellis_reply_t *reply);
    /* Outputs {"models": [{"id", ...}]}. THREADING: [any-thread]. */
    trellis_status_t (*list_models)(trellis_instance_t *instance, const trellis_call_context_t *context,
                                    const trellis_reply_t *reply);
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

typedef struct trellis_analyzer_v1 {
    uint32_t struct_size;
    /* Splits `text` into tokens, calling `on_token` for each in order.
     * Errors go through reply->error. THREADING: [any-thread]. */
    trellis_status_t (*tokenize)(trellis_instance_t *instance, trellis_str_t text,
                                 void *host_data, trellis_token_fn on_token,
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

#endif /* TRELLIS_PLUGIN_H */
