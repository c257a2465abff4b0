/// The C plugin `trellis plugins new … --lang c` writes, one per kind:
/// the kind's functions, create and destroy, and the descriptor. `@NAME@`,
/// `@ID@` and `@SUMMARY@` are filled in.
enum CTemplates {
    static let common = """
        /*
         * @ID@ — @SUMMARY@
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

        """

    static func body(kind: String) -> String {
        switch kind {
        case "channel": channel
        case "provider": provider
        case "recovery": recovery
        default: analyzer
        }
    }

    static let channel = """
        /* Delivers a message: here it only answers a receipt. A real channel calls
         * its service through the host's HTTP service (trellis.http/1). */
        static trellis_status_t send(trellis_instance_t *instance, const trellis_call_context_t *context,
                                     trellis_str_t message_json, const trellis_reply_t *reply) {
            (void)instance;
            if (message_json.len == 0) return fail(reply, TRELLIS_ERR_CONFIG, "the message is empty");
            /* The idempotency key lets a receiver drop a repeated delivery; the receipt's id names it. */
            char receipt[512];
            size_t key = context && context->idempotency_key.len < 256 ? context->idempotency_key.len : 0;
            int length = snprintf(receipt, sizeof(receipt), "{\\"id\\":\\"%.*s\\",\\"status\\":\\"delivered\\"}",
                                  (int)key, key ? context->idempotency_key.ptr : "");
            if (key == 0) length = snprintf(receipt, sizeof(receipt), "{\\"id\\":\\"@NAME@-1\\",\\"status\\":\\"delivered\\"}");
            output(reply, receipt, (size_t)length);
            return TRELLIS_OK;
        }

        static const trellis_channel_v1_t table = {.struct_size = sizeof(trellis_channel_v1_t), .send = send};
        #define KIND TRELLIS_KIND_CHANNEL
        #define INTERFACE TRELLIS_INTERFACE_CHANNEL_V1

        """

    static let provider = """
        /* Answers a completion: here always the same words, streamed when asked. */
        static trellis_status_t complete(trellis_instance_t *instance, const trellis_call_context_t *context,
                                         trellis_str_t request_json, const trellis_chunk_sink_t *stream,
                                         const trellis_reply_t *reply) {
            (void)instance;
            (void)context;
            if (request_json.len == 0) return fail(reply, TRELLIS_ERR_CONFIG, "the request is empty");
            static const char *words[] = {"hello", " from", " @NAME@"};
            for (size_t i = 0; stream && i < 3; i++) {
                if (stream->chunk(stream->host_data, (trellis_str_t){words[i], strlen(words[i])}) != 0) break;
            }
            static const char answer[] = "{\\"model\\":\\"@NAME@\\",\\"text\\":\\"hello from @NAME@\\",\\"finish_reason\\":\\"stop\\","
                                         "\\"usage\\":{\\"input_tokens\\":0,\\"output_tokens\\":3}}";
            output(reply, answer, sizeof(answer) - 1);
            return TRELLIS_OK;
        }

        static trellis_status_t list_models(trellis_instance_t *instance, const trellis_call_context_t *context,
                                            const trellis_reply_t *reply) {
            (void)instance;
            (void)context;
            static const char models[] = "{\\"models\\":[{\\"id\\":\\"@NAME@\\"}]}";
            output(reply, models, sizeof(models) - 1);
            return TRELLIS_OK;
        }

        static const trellis_provider_v1_t table = {.struct_size = sizeof(trellis_provider_v1_t), .complete = complete, .list_models = list_models};
        #define KIND TRELLIS_KIND_PROVIDER
        #define INTERFACE TRELLIS_INTERFACE_PROVIDER_V1

        """

    static let recovery = """
        /* Retries transient failures twice, 100 ms apart; other failures stand. */
        static trellis_status_t decide(trellis_instance_t *instance, const trellis_call_context_t *context,
                                       const trellis_failure_t *failure, trellis_decision_t *decision,
                                       const trellis_reply_t *reply) {
            (void)instance;
            (void)context;
            (void)reply;
            int transient = failure->error_class == TRELLIS_ERR_RETRYABLE || failure->error_class == TRELLIS_ERR_RATE_LIMITED;
            if (transient && failure->attempt < 3) {
                decision->action = TRELLIS_RECOVERY_RETRY;
                decision->delay_ms = failure->retry_after_ms > 100 ? failure->retry_after_ms : 100;
            } else {
                decision->action = TRELLIS_RECOVERY_PASS;
            }
            return TRELLIS_OK;
        }

        static const trellis_recovery_v1_t table = {.struct_size = sizeof(trellis_recovery_v1_t), .decide = decide};
        #define KIND TRELLIS_KIND_RECOVERY
        #define INTERFACE TRELLIS_INTERFACE_RECOVERY_V1

        """

    static let analyzer = """
        /* Splits text on ASCII whitespace; each token's bytes are its place in the text. */
        static trellis_status_t tokenize(trellis_instance_t *instance, trellis_str_t text, void *host_data,
                                         trellis_token_fn on_token, const trellis_reply_t *reply) {
            (void)instance;
            (void)reply;
            uint32_t position = 0;
            size_t start = 0;
            for (size_t i = 0; i <= text.len; i++) {
                int space = i == text.len || text.ptr[i] == ' ' || text.ptr[i] == '\\t' || text.ptr[i] == '\\n' || text.ptr[i] == '\\r';
                if (!space) continue;
                if (i > start) {
                    trellis_token_t token = {{text.ptr + start, i - start}, position++, (uint32_t)start, (uint32_t)i};
                    if (on_token(host_data, &token) != 0) break;
                }
                start = i + 1;
            }
            return TRELLIS_OK;
        }

        static const trellis_analyzer_v1_t table = {.struct_size = sizeof(trellis_analyzer_v1_t), .tokenize = tokenize};
        #define KIND TRELLIS_KIND_ANALYZER
        #define INTERFACE TRELLIS_INTERFACE_ANALYZER_V1

        """

    static let descriptor = """
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

        static const char id[] = "@ID@";
        static const char version[] = "0.1.0";
        static const char description[] = "@SUMMARY@";

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

        """

    static let makefile = """
        # Builds lib@NAME@.so against the Trellis ABI headers (a copy in include/;
        # TRELLIS_INCLUDE names another folder of them).
        CFLAGS ?= -O2 -Wall -Wextra -Werror
        TRELLIS_INCLUDE ?= include
        lib@NAME@.so: @NAME@.c $(TRELLIS_INCLUDE)/trellis_plugin.h
        \t$(CC) $(CFLAGS) -std=c11 -fPIC -shared -fvisibility=hidden -I$(TRELLIS_INCLUDE) -o $@ @NAME@.c

        clean:
        \trm -f lib@NAME@.so

        """
}
