/*
 * channel.null — accepts every message, delivers it nowhere, and reports it
 * delivered under the call's idempotency key. For dry runs of workflows and
 * for measuring the runner without any delivery cost.
 */
#include <stdio.h>
#include <string.h>

#include "trellis_plugin.h"

static trellis_status_t send(trellis_instance_t *instance, const trellis_call_context_t *context,
                             trellis_str_t message, const trellis_reply_t *reply) {
    (void)instance;
    (void)message;
    char output[320];
    size_t key = context->idempotency_key.len < 200 ? context->idempotency_key.len : 200;
    int n = snprintf(output, sizeof output, "{\"id\":\"%.*s\",\"status\":\"delivered\"}", (int)key,
                     context->idempotency_key.ptr ? context->idempotency_key.ptr : "");
    trellis_str_t json = {output, (size_t)n};
    reply->output(reply->host_data, json);
    return TRELLIS_OK;
}

static trellis_status_t check(trellis_instance_t *instance, const trellis_reply_t *reply) {
    (void)instance;
    (void)reply;
    return TRELLIS_OK;
}

static const trellis_channel_v1_t channel = {sizeof(trellis_channel_v1_t), NULL, send};
static const trellis_health_v1_t health = {sizeof(trellis_health_v1_t), check};

static int equals(trellis_str_t a, const char *b) {
    size_t n = strlen(b);
    return a.len == n && memcmp(a.ptr, b, n) == 0;
}

static const void *get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    if (equals(id, TRELLIS_INTERFACE_CHANNEL_V1)) return &channel;
    if (equals(id, TRELLIS_INTERFACE_HEALTH_V1)) return &health;
    return NULL;
}

static trellis_status_t create(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                               trellis_str_t config, trellis_instance_t **out, const trellis_reply_t *reply) {
    (void)self; (void)host; (void)config; (void)reply;
    static int instance;
    *out = (trellis_instance_t *)&instance;
    return TRELLIS_OK;
}

static void destroy(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance) {
    (void)self; (void)instance;
}

static const char id[] = "channel.null";
static const char version[] = "1.0.0";
static const char description[] = "Discards messages and reports them delivered: for dry runs and benchmarks.";

static const trellis_plugin_descriptor_t descriptor = {
    {TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, TRELLIS_ABI_PATCH}, sizeof(trellis_plugin_descriptor_t),
    {id, sizeof id - 1}, TRELLIS_KIND_CHANNEL, {version, sizeof version - 1}, {description, sizeof description - 1},
    0, get_interface, create, destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *trellis_plugin_entry(void) { return &descriptor; }
