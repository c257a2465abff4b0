/*
 * A provider built against the ABI exactly as 1.2 shipped it, from a frozen
 * copy of the headers (Tests/Fixtures/ABI-1.2) that is never edited. Its
 * provider table ends at list_models and its errors end at message: the
 * tests prove that a 1.2 provider loads and answers in the current host.
 *
 * It streams the words of the last message's content back, as "frozen: …".
 * A content of "fail" fails retryable after streaming one word; "shape"
 * answers with something that is not a completion (text is a number).
 */
#include <string.h>

#include "trellis_plugin.h"

#if TRELLIS_ABI_MAJOR != 1 || TRELLIS_ABI_MINOR != 2
#error "Frozen12 must compile against the frozen 1.2 headers"
#endif

/* The last "content":"…" in the request (no escapes in the tests' prompts). */
static trellis_str_t last_content(trellis_str_t json) {
    static const char key[] = "\"content\":\"";
    trellis_str_t found = {NULL, 0};
    for (size_t i = 0; i + sizeof(key) - 1 <= json.len; i++) {
        if (memcmp(json.ptr + i, key, sizeof(key) - 1) != 0) continue;
        size_t start = i + sizeof(key) - 1, end = start;
        while (end < json.len && json.ptr[end] != '"') end++;
        found.ptr = json.ptr + start;
        found.len = end - start;
    }
    return found;
}

static void fail(const trellis_reply_t *reply, const char *message) {
    trellis_error_t error = {sizeof(trellis_error_t), TRELLIS_ERR_RETRYABLE, 0, {message, strlen(message)}};
    reply->error(reply->host_data, &error);
}

static trellis_status_t complete(trellis_instance_t *instance, const trellis_call_context_t *context,
                                 trellis_str_t request, const trellis_chunk_sink_t *stream,
                                 const trellis_reply_t *reply) {
    (void)instance;
    (void)context;
    trellis_str_t content = last_content(request);
    if (content.ptr == NULL) {
        fail(reply, "no message content");
        return TRELLIS_ERR_RETRYABLE;
    }
    if (stream != NULL) stream->chunk(stream->host_data, (trellis_str_t){"frozen:", 7});
    if (content.len == 4 && memcmp(content.ptr, "fail", 4) == 0) {
        fail(reply, "the frozen provider fails on request");
        return TRELLIS_ERR_RETRYABLE;
    }
    if (content.len == 5 && memcmp(content.ptr, "shape", 5) == 0) {
        static const char wrong[] = "{\"model\":\"frozen-1-2\",\"text\":5}";
        reply->output(reply->host_data, (trellis_str_t){wrong, sizeof(wrong) - 1});
        return TRELLIS_OK;
    }
    if (stream != NULL) {
        stream->chunk(stream->host_data, (trellis_str_t){" ", 1});
        stream->chunk(stream->host_data, content);
    }
    char output[512];
    static const char head[] = "{\"model\":\"frozen-1-2\",\"text\":\"frozen: ";
    static const char tail[] = "\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}";
    if (content.len > sizeof(output) - sizeof(head) - sizeof(tail)) content.len = sizeof(output) - sizeof(head) - sizeof(tail);
    size_t length = 0;
    memcpy(output, head, sizeof(head) - 1);
    length += sizeof(head) - 1;
    memcpy(output + length, content.ptr, content.len);
    length += content.len;
    memcpy(output + length, tail, sizeof(tail) - 1);
    length += sizeof(tail) - 1;
    reply->output(reply->host_data, (trellis_str_t){output, length});
    return TRELLIS_OK;
}

static trellis_status_t list_models(trellis_instance_t *instance, const trellis_call_context_t *context,
                                    const trellis_reply_t *reply) {
    (void)instance;
    (void)context;
    static const char models[] = "{\"models\":[{\"id\":\"frozen-1-2\"}]}";
    reply->output(reply->host_data, (trellis_str_t){models, sizeof(models) - 1});
    return TRELLIS_OK;
}

static const trellis_provider_v1_t provider = {sizeof(trellis_provider_v1_t), complete, list_models};

static const void *get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    size_t n = strlen(TRELLIS_INTERFACE_PROVIDER_V1);
    return id.len == n && memcmp(id.ptr, TRELLIS_INTERFACE_PROVIDER_V1, n) == 0 ? &provider : NULL;
}

static trellis_status_t create(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                               trellis_str_t config, trellis_instance_t **out, const trellis_reply_t *reply) {
    (void)self;
    (void)host;
    (void)config;
    (void)reply;
    static int instance;
    *out = (trellis_instance_t *)&instance;
    return TRELLIS_OK;
}

static void destroy(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance) {
    (void)self;
    (void)instance;
}

static const char id[] = "provider.frozen-1-2";
static const char version[] = "1.2.0";
static const char description[] = "Built against the frozen ABI 1.2 headers; echoes the last message.";

static const trellis_plugin_descriptor_t descriptor = {
    {TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, TRELLIS_ABI_PATCH},
    sizeof(trellis_plugin_descriptor_t),
    {id, sizeof(id) - 1},
    TRELLIS_KIND_PROVIDER,
    {version, sizeof(version) - 1},
    {description, sizeof(description) - 1},
    0,
    get_interface,
    create,
    destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *trellis_plugin_entry(void) { return &descriptor; }
