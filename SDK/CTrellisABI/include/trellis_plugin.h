/*
 * trellis_plugin.h — the Trellis plugin ABI, version 1.4.0.
 *
 * 1.1 added the host services trellis.clock/1 and trellis.state/1, and
 * trellis_outcome_t.policy_json.
 * 1.2 added two replies of recovery strategies, both in reply->output: a
 * maximum age with TRELLIS_RECOVERY_USE_CACHED, and a hedging plan from
 * before_attempt; the host's classification of an HTTP response
 * (trellis_http_response_t.error_class, .retry_after_ms); and the host
 * service trellis.mail/1 (SMTP).
 * 1.3 added trellis_error_t.reason; streaming HTTP
 * (trellis_http_service_t.stream); embeddings (trellis_provider_v1_t.embed);
 * and, in the provider's JSON, tools, tool calls, stop, top_p and
 * response_format.
 * 1.4 added token filters (trellis_analyzer_v1_t.filter) and tokenizing
 * many texts in one call (trellis_analyzer_v1_t.tokenize_batch).
 *
 * This header, with the three it includes — trellis_types.h (basic types),
 * trellis_services.h (the host's services) and trellis_interfaces.h (what a
 * plugin offers) — is the whole contract between a Trellis host and a plugin.
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

#include "trellis_types.h"
#include "trellis_services.h"
#include "trellis_interfaces.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * The plugin descriptor and instance lifecycle
 * ------------------------------------------------------------------------- */

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

#ifdef __cplusplus
}
#endif

#endif /* TRELLIS_PLUGIN_H */
