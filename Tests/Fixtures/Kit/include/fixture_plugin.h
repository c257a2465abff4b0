/*
 * The body of the test fixture plugins. Each fixture is a one-line C file
 * that defines a few FIXTURE_* macros and includes this header, so every
 * broken plugin differs from a working analyzer in exactly one way.
 *
 *   FIXTURE_ID              the plugin id (required)
 *   FIXTURE_ABI_MAJOR/MINOR the ABI version it claims (default: this header's)
 *   FIXTURE_STRUCT_SIZE     the descriptor size it claims (default: sizeof)
 *   FIXTURE_ENTRY_NAME      the exported symbol (default: trellis_plugin_entry)
 *   FIXTURE_NULL_TOKENIZE   its analyzer table has a NULL tokenize
 *   FIXTURE_FAIL_CREATE     create fails with FIXTURE_FAIL_MESSAGE
 *   FIXTURE_UNDEFINED_SYMBOL it calls a function no library defines
 *   FIXTURE_FLAGS           descriptor flags (e.g. single-threaded)
 *   FIXTURE_LEAK            each tokenize allocates 64 bytes it never frees
 *   FIXTURE_MARKER          when the library is opened, its constructor writes
 *                           "opened" to the file $TRELLIS_FIXTURE_MARKER names
 *                           (a test sees whether a refused library was ever opened)
 *
 * Its tokenize emits one token per call ("fixture") after checking that no
 * other call is in flight on the same instance; with FIXTURE_FLAGS set to
 * single-threaded this proves the host serializes calls.
 */
#ifndef TRELLIS_FIXTURE_PLUGIN_H
#define TRELLIS_FIXTURE_PLUGIN_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trellis_plugin.h"

#ifndef FIXTURE_ABI_MAJOR
#define FIXTURE_ABI_MAJOR TRELLIS_ABI_MAJOR
#endif
#ifndef FIXTURE_ABI_MINOR
#define FIXTURE_ABI_MINOR TRELLIS_ABI_MINOR
#endif
#ifndef FIXTURE_STRUCT_SIZE
#define FIXTURE_STRUCT_SIZE sizeof(trellis_plugin_descriptor_t)
#endif
#ifndef FIXTURE_ENTRY_NAME
#define FIXTURE_ENTRY_NAME trellis_plugin_entry
#endif
#ifndef FIXTURE_FLAGS
#define FIXTURE_FLAGS 0
#endif

typedef struct fixture_instance {
    int in_flight;
    long overlaps;
} fixture_instance_t;

#ifdef FIXTURE_UNDEFINED_SYMBOL
extern int trellis_fixture_symbol_defined_nowhere(void);
#endif

#ifdef FIXTURE_MARKER
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void fixture_mark_opened(void) {
    const char *path = getenv("TRELLIS_FIXTURE_MARKER");
    if (!path || !*path) return;
    FILE *file = fopen(path, "w");
    if (file) {
        fputs("opened\n", file);
        fclose(file);
    }
}
#endif

static trellis_status_t fixture_fail(const trellis_reply_t *reply, trellis_status_t code, const char *message) {
    if (reply && reply->error) {
        trellis_error_t error = {sizeof(trellis_error_t), code, 0, {message, strlen(message)}};
        reply->error(reply->host_data, &error);
    }
    return code;
}

static trellis_status_t fixture_tokenize(trellis_instance_t *instance, trellis_str_t text, void *host_data,
                                         trellis_token_fn on_token, const trellis_reply_t *reply) {
    fixture_instance_t *self = (fixture_instance_t *)instance;
    (void)text;
    if (__atomic_add_fetch(&self->in_flight, 1, __ATOMIC_SEQ_CST) > 1) {
        __atomic_add_fetch(&self->overlaps, 1, __ATOMIC_SEQ_CST);
    }
    struct timespec pause = {0, 200000}; /* 0.2 ms: long enough to overlap */
    nanosleep(&pause, NULL);
    long overlaps = __atomic_load_n(&self->overlaps, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&self->in_flight, 1, __ATOMIC_SEQ_CST);
    if (overlaps > 0) return fixture_fail(reply, TRELLIS_ERR_PERMANENT, "two calls overlapped on one instance");
#ifdef FIXTURE_UNDEFINED_SYMBOL
    if (trellis_fixture_symbol_defined_nowhere()) return TRELLIS_ERR_PERMANENT;
#endif
#ifdef FIXTURE_LEAK
    {
        char *volatile lost = malloc(64);
        if (lost) lost[0] = 1;
    }
#endif
    trellis_token_t token = {{"fixture", 7}, 0, 0, (uint32_t)text.len};
    on_token(host_data, &token);
    return TRELLIS_OK;
}

static const trellis_analyzer_v1_t fixture_analyzer = {
    sizeof(trellis_analyzer_v1_t),
#ifdef FIXTURE_NULL_TOKENIZE
    NULL,
#else
    fixture_tokenize,
#endif
};

static const void *fixture_get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    size_t n = strlen(TRELLIS_INTERFACE_ANALYZER_V1);
    if (id.len == n && memcmp(id.ptr, TRELLIS_INTERFACE_ANALYZER_V1, n) == 0) return &fixture_analyzer;
    return NULL;
}

static trellis_status_t fixture_create(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                                       trellis_str_t config, trellis_instance_t **out, const trellis_reply_t *reply) {
    (void)self;
    (void)host;
    (void)config;
#ifdef FIXTURE_FAIL_CREATE
    (void)out;
    return fixture_fail(reply, TRELLIS_ERR_CONFIG, FIXTURE_FAIL_MESSAGE);
#else
    fixture_instance_t *instance = calloc(1, sizeof(*instance));
    if (!instance) return fixture_fail(reply, TRELLIS_ERR_RETRYABLE, "out of memory");
    *out = (trellis_instance_t *)instance;
    return TRELLIS_OK;
#endif
}

static void fixture_destroy(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance) {
    (void)self;
    free(instance);
}

static const char fixture_id[] = FIXTURE_ID;
static const char fixture_version[] = "0.0.1";
static const char fixture_description[] = "A test fixture for the plugin loader.";

static const trellis_plugin_descriptor_t fixture_descriptor = {
    {FIXTURE_ABI_MAJOR, FIXTURE_ABI_MINOR, 0},
    FIXTURE_STRUCT_SIZE,
    {fixture_id, sizeof(fixture_id) - 1},
    TRELLIS_KIND_ANALYZER,
    {fixture_version, sizeof(fixture_version) - 1},
    {fixture_description, sizeof(fixture_description) - 1},
    FIXTURE_FLAGS,
    fixture_get_interface,
    fixture_create,
    fixture_destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *FIXTURE_ENTRY_NAME(void) { return &fixture_descriptor; }

#endif
