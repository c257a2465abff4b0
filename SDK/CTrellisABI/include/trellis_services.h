/*
 * trellis_services.h — the host table a plugin receives at create time and the
 * services it can ask for: log, metrics, secrets, cancel, http, mail, clock, state.
 * Part of the Trellis plugin ABI; include trellis_plugin.h, which includes
 * this file. The ABI's rules are in trellis_plugin.h and docs/abi.md.
 */
#ifndef TRELLIS_SERVICES_H
#define TRELLIS_SERVICES_H

#include "trellis_types.h"

#ifdef __cplusplus
extern "C" {
#endif

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
    /* Since 1.3: performs the request and hands the response over as it
     * arrives: `on_head` once with the status and headers (its body is
     * empty) before any body, then `on_body` with each piece of the body as
     * it comes off the wire. `on_body` returns nonzero to stop the transfer
     * (the call then returns TRELLIS_ERR_CANCELLED). The call's
     * cancellation and deadline stop it too, within about a second of an
     * idle connection. A non-2xx body arrives the same way, so the plugin
     * can read the service's error. Returns as `request` does.
     * THREADING: [thread-safe]; blocks the calling thread; both callbacks
     * run on it, and what they receive is valid only inside them. */
    trellis_status_t (*stream)(const trellis_host_t *host, const trellis_call_context_t *context,
                               const trellis_http_request_t *request, void *user_data,
                               void (*on_head)(void *user_data, const trellis_http_response_t *head),
                               int32_t (*on_body)(void *user_data, trellis_str_t bytes),
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

#ifdef __cplusplus
}
#endif

#endif /* TRELLIS_SERVICES_H */
