/*
 * fixture.flaky — a channel that misbehaves on request, for the runner's
 * tests. The message says how:
 *   "fail_times": N      fail the first N calls with the same idempotency key
 *   "class": "..."       how to fail: retryable (default), rate_limited, permanent
 *   "retry_after_ms": N  the retry-after of a rate-limited failure
 *   "sleep_ms": N        sleep this long first, ignoring any deadline (a hang)
 *   "sleep_first_ms": N  the same, on the first call with a key only
 *   "wait_first_ms": N   on the first call with a key, wait up to N ms but
 *                        stop when the host cancels the call (trellis.cancel/1);
 *                        a cancelled wait appends "key cancelled\n" to `record`
 *   "fail_while": "path" fail (as "class" says) while this file exists
 *   "record": "path"     append "key attempt\n" to this file on every call
 * It replies {"id": key, "status": "delivered", "detail": {"calls": "<n>"}}.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trellis_plugin.h"

#define MAX_KEYS 4096

static const trellis_host_t *host_table;
static const trellis_cancel_service_t *cancel_service;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *keys[MAX_KEYS];
static int calls[MAX_KEYS];
static int key_count;

static int count_call(trellis_str_t key) {
    pthread_mutex_lock(&lock);
    int result = 0;
    for (int i = 0; i < key_count; i++) {
        if (strlen(keys[i]) == key.len && memcmp(keys[i], key.ptr, key.len) == 0) {
            result = ++calls[i];
            break;
        }
    }
    if (result == 0 && key_count < MAX_KEYS) {
        keys[key_count] = strndup(key.ptr, key.len);
        calls[key_count] = 1;
        key_count++;
        result = 1;
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* Finds "name": and returns a pointer just past the colon and spaces, or NULL. */
static const char *field(trellis_str_t json, const char *name) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", name);
    size_t n = strlen(pattern);
    for (size_t i = 0; i + n <= json.len; i++) {
        if (memcmp(json.ptr + i, pattern, n) != 0) continue;
        size_t j = i + n;
        while (j < json.len && (json.ptr[j] == ':' || json.ptr[j] == ' ')) j++;
        return json.ptr + j;
    }
    return NULL;
}

static long number(trellis_str_t json, const char *name, long fallback) {
    const char *at = field(json, name);
    return at ? strtol(at, NULL, 10) : fallback;
}

static int string_field(trellis_str_t json, const char *name, char *out, size_t size) {
    const char *at = field(json, name);
    if (!at || *at != '"') return 0;
    at++;
    size_t n = 0;
    while (at + n < json.ptr + json.len && at[n] != '"' && n + 1 < size) n++;
    memcpy(out, at, n);
    out[n] = 0;
    return 1;
}

static int file_exists(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    fclose(file);
    return 1;
}

static trellis_status_t send(trellis_instance_t *instance, const trellis_call_context_t *context,
                             trellis_str_t message, const trellis_reply_t *reply) {
    (void)instance;
    int call = count_call(context->idempotency_key);
    char path[512];
    if (string_field(message, "record", path, sizeof path)) {
        FILE *file = fopen(path, "a");
        if (file) {
            fprintf(file, "%.*s %u\n", (int)context->idempotency_key.len, context->idempotency_key.ptr, context->attempt);
            fclose(file);
        }
    }
    long sleep_ms = number(message, "sleep_ms", 0);
    if (call == 1 && sleep_ms == 0) sleep_ms = number(message, "sleep_first_ms", 0);
    if (sleep_ms > 0) {
        struct timespec pause = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    long wait_ms = call == 1 ? number(message, "wait_first_ms", 0) : 0;
    for (long waited = 0; waited < wait_ms; waited += 5) {
        if (cancel_service && cancel_service->is_cancelled(host_table, context)) {
            if (string_field(message, "record", path, sizeof path)) {
                FILE *file = fopen(path, "a");
                if (file) {
                    fprintf(file, "%.*s cancelled\n", (int)context->idempotency_key.len, context->idempotency_key.ptr);
                    fclose(file);
                }
            }
            const char *text = "cancelled while waiting";
            trellis_error_t error = {sizeof error, TRELLIS_ERR_CANCELLED, 0, {text, strlen(text)}};
            reply->error(reply->host_data, &error);
            return TRELLIS_ERR_CANCELLED;
        }
        struct timespec slice = {0, 5 * 1000000L};
        nanosleep(&slice, NULL);
    }
    char marker[512];
    int failing = string_field(message, "fail_while", marker, sizeof marker) && file_exists(marker);
    if (failing || call <= number(message, "fail_times", 0)) {
        char kind[32] = "retryable";
        string_field(message, "class", kind, sizeof kind);
        trellis_status_t code = strcmp(kind, "rate_limited") == 0 ? TRELLIS_ERR_RATE_LIMITED
                              : strcmp(kind, "permanent") == 0 ? TRELLIS_ERR_PERMANENT : TRELLIS_ERR_RETRYABLE;
        char text[96];
        snprintf(text, sizeof text, "deliberate %s failure %d", kind, call);
        trellis_error_t error = {sizeof error, code, (uint64_t)number(message, "retry_after_ms", 0), {text, strlen(text)}};
        reply->error(reply->host_data, &error);
        return code;
    }
    char output[256];
    int n = snprintf(output, sizeof output, "{\"id\":\"%.*s\",\"status\":\"delivered\",\"detail\":{\"calls\":\"%d\"}}",
                     (int)context->idempotency_key.len, context->idempotency_key.ptr, call);
    trellis_str_t json = {output, (size_t)n};
    reply->output(reply->host_data, json);
    return TRELLIS_OK;
}

static const trellis_channel_v1_t channel = {sizeof(trellis_channel_v1_t), NULL, send};

static const void *get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    size_t n = strlen(TRELLIS_INTERFACE_CHANNEL_V1);
    return id.len == n && memcmp(id.ptr, TRELLIS_INTERFACE_CHANNEL_V1, n) == 0 ? &channel : NULL;
}

static trellis_status_t create(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                               trellis_str_t config, trellis_instance_t **out, const trellis_reply_t *reply) {
    (void)self; (void)config; (void)reply;
    static int instance;
    host_table = host;
    trellis_str_t cancel_id = {TRELLIS_SERVICE_CANCEL, strlen(TRELLIS_SERVICE_CANCEL)};
    cancel_service = host->get_service(host, cancel_id);
    *out = (trellis_instance_t *)&instance;
    return TRELLIS_OK;
}

static void destroy(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance) {
    (void)self; (void)instance;
}

static const char id[] = "fixture.flaky";
static const char version[] = "0.0.1";
static const char description[] = "A channel that fails, hangs and records on request.";

static const trellis_plugin_descriptor_t descriptor = {
    {TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, TRELLIS_ABI_PATCH}, sizeof(trellis_plugin_descriptor_t),
    {id, sizeof id - 1}, TRELLIS_KIND_CHANNEL, {version, sizeof version - 1}, {description, sizeof description - 1},
    0, get_interface, create, destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *trellis_plugin_entry(void) { return &descriptor; }
