/*
 * trellis_types.h — the ABI version, strings, status codes, errors, replies,
 * call contexts and the opaque instance: what every other part uses.
 * Part of the Trellis plugin ABI; include trellis_plugin.h, which includes
 * this file. The ABI's rules are in trellis_plugin.h and docs/abi.md.
 */
#ifndef TRELLIS_TYPES_H
#define TRELLIS_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRELLIS_ABI_MAJOR 1
#define TRELLIS_ABI_MINOR 4
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
    /* Since 1.3: why, within the class, in a word the host can act on
     * (empty when there is nothing to add). Providers use
     * "context_length" (the request does not fit the model's window),
     * "content_policy" (the model or its service refused the content),
     * "quota" (billing or spend limit), "overloaded", "stream_broken" (the
     * answer was cut or carried a broken event after it began). */
    trellis_str_t reason;
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

/* A plugin-owned instance; opaque to the host. */
typedef struct trellis_instance trellis_instance_t;

#ifdef __cplusplus
}
#endif

#endif /* TRELLIS_TYPES_H */
