/*
 * analyzer.example-c — An example C analyzer: splits text on ASCII whitespace,
 * and, as a token filter (ABI 1.4), drops tokens shorter than three bytes.
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
/* Splits text on ASCII whitespace; each token's bytes are its place in the text. */
static trellis_status_t tokenize(trellis_instance_t *instance, trellis_str_t text, void *host_data,
                                 trellis_token_fn on_token, const trellis_reply_t *reply) {
    (void)instance;
    (void)reply;
    uint32_t position = 0;
    size_t start = 0;
    for (size_t i = 0; i <= text.len; i++) {
        int space = i == text.len || text.ptr[i] == ' ' || text.ptr[i] == '\t' || text.ptr[i] == '\n' || text.ptr[i] == '\r';
        if (!space) continue;
        if (i > start) {
            trellis_token_t token = {{text.ptr + start, i - start}, position++, (uint32_t)start, (uint32_t)i};
            if (on_token(host_data, &token) != 0) break;
        }
        start = i + 1;
    }
    return TRELLIS_OK;
}

/* As a filter, later in a field's analyzer chain: passes on every token of
 * three bytes or more, as it came (term, position and bytes), and drops the
 * rest. The tokens and their terms are the host's, valid during the call. */
static trellis_status_t filter(trellis_instance_t *instance, trellis_str_t text, const trellis_token_t *tokens, size_t count,
                               void *host_data, trellis_token_fn on_token, const trellis_reply_t *reply) {
    (void)instance;
    (void)text;
    (void)reply;
    for (size_t i = 0; i < count; i++) {
        if (tokens[i].term.len < 3) continue;
        if (on_token(host_data, &tokens[i]) != 0) break;
    }
    return TRELLIS_OK;
}

/* Designated initializers: a field a later ABI adds (as 1.4 added filter and
 * tokenize_batch) is NULL, and the source still builds with -Wextra -Werror.
 * tokenize_batch is left NULL: the host calls tokenize once per text. */
static const trellis_analyzer_v1_t table = {.struct_size = sizeof(trellis_analyzer_v1_t), .tokenize = tokenize, .filter = filter};
#define KIND TRELLIS_KIND_ANALYZER
#define INTERFACE TRELLIS_INTERFACE_ANALYZER_V1
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

static const char id[] = "analyzer.example-c";
static const char version[] = "0.1.0";
static const char description[] = "An example C analyzer: splits text on ASCII whitespace.";

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
