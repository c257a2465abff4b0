/*
 * A plugin built against the ABI exactly as 1.0 shipped it. The header it
 * includes is a frozen copy (Tests/Fixtures/ABI-1.0) that is never edited:
 * as the live header grows, the tests keep proving that a 1.0 binary loads
 * and works in the current host. It splits text on commas.
 */
#include <stdlib.h>
#include <string.h>

#include "trellis_plugin.h"

#if TRELLIS_ABI_MAJOR != 1 || TRELLIS_ABI_MINOR != 0
#error "Frozen10 must compile against the frozen 1.0 header"
#endif

static trellis_status_t tokenize(trellis_instance_t *instance, trellis_str_t text, void *host_data,
                                 trellis_token_fn on_token, const trellis_reply_t *reply) {
    (void)instance;
    (void)reply;
    uint32_t position = 0;
    size_t start = 0;
    for (size_t i = 0; i <= text.len; i++) {
        if (i < text.len && text.ptr[i] != ',') continue;
        if (i > start) {
            trellis_token_t token = {{text.ptr + start, i - start}, position++, (uint32_t)start, (uint32_t)i};
            if (on_token(host_data, &token) != 0) break;
        }
        start = i + 1;
    }
    return TRELLIS_OK;
}

static const trellis_analyzer_v1_t analyzer = {sizeof(trellis_analyzer_v1_t), tokenize};

static const void *get_interface(const trellis_plugin_descriptor_t *self, trellis_str_t id) {
    (void)self;
    size_t n = strlen(TRELLIS_INTERFACE_ANALYZER_V1);
    return id.len == n && memcmp(id.ptr, TRELLIS_INTERFACE_ANALYZER_V1, n) == 0 ? &analyzer : NULL;
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

static const char id[] = "fixture.frozen-1-0";
static const char version[] = "1.0.0";
static const char description[] = "Built against the frozen ABI 1.0 header; splits on commas.";

static const trellis_plugin_descriptor_t descriptor = {
    {TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, TRELLIS_ABI_PATCH},
    sizeof(trellis_plugin_descriptor_t),
    {id, sizeof(id) - 1},
    TRELLIS_KIND_ANALYZER,
    {version, sizeof(version) - 1},
    {description, sizeof(description) - 1},
    0,
    get_interface,
    create,
    destroy,
};

TRELLIS_EXPORT const trellis_plugin_descriptor_t *trellis_plugin_entry(void) { return &descriptor; }
