/*
 * channel.example-c — An example C channel: every message gets a delivered receipt, named by the call's idempotency key.
 * Written against the Trellis plugin ABI headers in include/ (docs/abi.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trellis_plugin.h"

__attribute__((unused)) static trellis_status_t fail(const trellis_reply_t *reply, trellis_status_t code, const char *message) {
    if (reply && reply->error) {
        trellis_error_t error = {sizeof(trellis_error_t), code, 0, {message, strlen(message)}, {NULL, 0}};
        reply->error(reply->host_data, &error);
    }
    return code;
}

__attribute__((unused)) static void output(const trellis_reply_t *reply, const char *json, size_t length) {
    if (reply && reply->output) reply->output(reply->host_data, (trellis_str_t){json, length});
}
/* Delivers a message: here it only answers a receipt. A real channel calls
 * its service through the host's HTTP service (trellis.http/1). */
static trellis_status_t send(trellis_instance_t *instance, const trellis_call_context_t *context,
                             trellis_str_t message_json, const trellis_reply_t *reply) {
    (void)instance;
    if (message_json.len == 0) return fail(reply, TRELLIS_ERR_CONFIG, "the message is empty");
    /* The idempotency key lets a receiver drop a repeated delivery; the receipt's id names it. */
    char receipt[512];
    size_t key = context && context->idempotency_key.len < 256 ? context->idempotency_key.len : 0;
    int length = snprintf(receipt, sizeof(receipt), "{\"id\":\"%.*s\",\"status\":\"delivered\"}",
                          (int)key, key ? context->idempotency_key.ptr : "");
    if (key == 0) length = snprintf(receipt, sizeof(receipt), "{\"id\":\"ChannelExampleC-1\",\"status\":\"delivered\"}");
    output(reply, receipt, (size_t)length);
    return TRELLIS_OK;
}

static const trellis_channel_v1_t table = {.struct_size = sizeof(trellis_channel_v1_t), .send = send};
#define KIND TRELLIS_KIND_CHANNEL
#define INTERFACE TRELLIS_INTERFACE_CHANNEL_V1
static const void *get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    size_t n = strlen(INTERFACE);
    return id.len == n && memcmp(id.ptr, INTERFACE, n) == 0 ? &table : NULL;
}

static trellis_status_t create(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                               trellis_str_t config_json, trellis_instance_t **out, const trellis_reply_t *reply) {
    (void)self;
    (void)host;
    (void)config_json;   /* checked against the manifest's config_schema by the host */
    int *instance = calloc(1, sizeof(int));
    if (!instance) return fail(reply, TRELLIS_ERR_RETRYABLE, "out of memory");
    *out = (trellis_instance_t *)instance;
    return TRELLIS_OK;
}

static void destroy(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance) {
    (void)self;
    free(instance);
}

static const char id[] = "channel.example-c";
static const char version[] = "0.1.0";
static const char description[] = "An example C channel: every message gets a delivered receipt, named by the call's idempotency key.";

static const trellis_plugin_descriptor_t descriptor = {
    {TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, TRELLIS_ABI_PATCH},
    sizeof(trellis_plugin_descriptor_t),
    {id, sizeof(id) - 1},
    KIND,
    {version, sizeof(version) - 1},
    {description, sizeof(description) - 1},
    0,
    get_interface,
    create,
    destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *trellis_plugin_entry(void) { return &descriptor; }
