/*
 * analyzer.whitespace — splits text on ASCII whitespace and lower-cases
 * ASCII letters. Bytes >= 0x80 pass through unchanged, so UTF-8 stays valid.
 * Written in C against the header alone: the model for a C plugin.
 */
#include <stdlib.h>
#include <string.h>

#include "trellis_plugin.h"

typedef struct whitespace_instance {
    size_t max_token_length; /* longer tokens are cut at this many bytes */
} whitespace_instance_t;

static const char ID[] = "analyzer.whitespace";
static const char VERSION[] = "1.0.0";
static const char DESCRIPTION[] = "Splits on whitespace and lower-cases ASCII letters.";

static trellis_str_t str(const char *s) {
    trellis_str_t out = {s, strlen(s)};
    return out;
}

static trellis_status_t fail(const trellis_reply_t *reply, trellis_status_t code, const char *message) {
    if (reply && reply->error) {
        trellis_error_t error = {sizeof(trellis_error_t), code, 0, str(message)};
        reply->error(reply->host_data, &error);
    }
    return code;
}

static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Reads "max_token_length": N from the config; the host has already checked
 * it against the manifest's schema, so a simple scan is enough here. */
static size_t parse_max_length(trellis_str_t config) {
    static const char key[] = "\"max_token_length\"";
    size_t keylen = sizeof(key) - 1;
    for (size_t i = 0; config.ptr && i + keylen <= config.len; i++) {
        if (memcmp(config.ptr + i, key, keylen) != 0) continue;
        size_t j = i + keylen;
        while (j < config.len && (config.ptr[j] == ':' || is_space((unsigned char)config.ptr[j]))) j++;
        size_t value = 0;
        while (j < config.len && config.ptr[j] >= '0' && config.ptr[j] <= '9') {
            value = value * 10 + (size_t)(config.ptr[j] - '0');
            j++;
        }
        return value;
    }
    return 255;
}

static trellis_status_t tokenize(trellis_instance_t *instance, trellis_str_t text, void *host_data,
                                 trellis_token_fn on_token, const trellis_reply_t *reply) {
    whitespace_instance_t *self = (whitespace_instance_t *)instance;
    if (!self || !on_token) return fail(reply, TRELLIS_ERR_PERMANENT, "tokenize called with NULL arguments");
    char stack_term[256];
    char *term = self->max_token_length <= sizeof(stack_term) ? stack_term : malloc(self->max_token_length);
    if (!term) return fail(reply, TRELLIS_ERR_RETRYABLE, "out of memory");

    const unsigned char *p = (const unsigned char *)text.ptr;
    uint32_t position = 0;
    size_t i = 0;
    while (i < text.len) {
        while (i < text.len && is_space(p[i])) i++;
        size_t start = i;
        while (i < text.len && !is_space(p[i])) i++;
        if (i == start) break;
        size_t n = i - start < self->max_token_length ? i - start : self->max_token_length;
        /* Never cut inside a UTF-8 sequence: back off to a character start. */
        while (n > 0 && n < i - start && (p[start + n] & 0xC0) == 0x80) n--;
        for (size_t k = 0; k < n; k++) {
            unsigned char c = p[start + k];
            term[k] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        trellis_token_t token = {{term, n}, position++, (uint32_t)start, (uint32_t)i};
        if (on_token(host_data, &token) != 0) break;
    }
    if (term != stack_term) free(term);
    return TRELLIS_OK;
}

static trellis_status_t check(trellis_instance_t *instance, const trellis_reply_t *reply) {
    (void)instance;
    (void)reply;
    return TRELLIS_OK;
}

static const trellis_analyzer_v1_t analyzer = {.struct_size = sizeof(trellis_analyzer_v1_t), .tokenize = tokenize};
static const trellis_health_v1_t health = {sizeof(trellis_health_v1_t), check};

static int equals(trellis_str_t a, const char *b) {
    size_t n = strlen(b);
    return a.len == n && memcmp(a.ptr, b, n) == 0;
}

static const void *get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    if (equals(id, TRELLIS_INTERFACE_ANALYZER_V1)) return &analyzer;
    if (equals(id, TRELLIS_INTERFACE_HEALTH_V1)) return &health;
    return NULL;
}

static trellis_status_t create(const trellis_plugin_descriptor_t *self, const trellis_host_t *host,
                               trellis_str_t config, trellis_instance_t **out, const trellis_reply_t *reply) {
    (void)self;
    (void)host;
    size_t max_length = parse_max_length(config);
    if (max_length == 0) return fail(reply, TRELLIS_ERR_CONFIG, "max_token_length must be at least 1");
    whitespace_instance_t *instance = calloc(1, sizeof(*instance));
    if (!instance) return fail(reply, TRELLIS_ERR_RETRYABLE, "out of memory");
    instance->max_token_length = max_length;
    *out = (trellis_instance_t *)instance;
    return TRELLIS_OK;
}

static void destroy(const trellis_plugin_descriptor_t *self, trellis_instance_t *instance) {
    (void)self;
    free(instance);
}

static const trellis_plugin_descriptor_t descriptor = {
    {TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, TRELLIS_ABI_PATCH},
    sizeof(trellis_plugin_descriptor_t),
    {ID, sizeof(ID) - 1},
    TRELLIS_KIND_ANALYZER,
    {VERSION, sizeof(VERSION) - 1},
    {DESCRIPTION, sizeof(DESCRIPTION) - 1},
    0,
    get_interface,
    create,
    destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *trellis_plugin_entry(void) { return &descriptor; }
