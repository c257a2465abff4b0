/*
 * trellis_curl.c — opens libcurl on first use; see trellis_curl.h.
 */
#include "trellis_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TRELLIS_LIBCURL "libcurl.so.4"

/* One pointer per libcurl function, typed from libcurl's own declarations. */
struct curl_functions {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_easy_reset) easy_reset;
    __typeof__(&curl_easy_perform) easy_perform;
    __typeof__(&curl_easy_strerror) easy_strerror;
    __typeof__(&curl_easy_setopt) easy_setopt;
    __typeof__(&curl_easy_getinfo) easy_getinfo;
    __typeof__(&curl_free) free;
    __typeof__(&curl_slist_append) slist_append;
    __typeof__(&curl_slist_free_all) slist_free_all;
    __typeof__(&curl_url) url;
    __typeof__(&curl_url_cleanup) url_cleanup;
    __typeof__(&curl_url_get) url_get;
    __typeof__(&curl_url_set) url_set;
};

/* Opens `soname` and fills `table`. On failure closes it again and says why. */
static int load(const char *soname, struct curl_functions *table, void **library, char *error, size_t error_size) {
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(error, error_size, "%s", dlerror());
        return -1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"curl_global_init", (void **)&table->global_init},
        {"curl_easy_init", (void **)&table->easy_init},
        {"curl_easy_cleanup", (void **)&table->easy_cleanup},
        {"curl_easy_reset", (void **)&table->easy_reset},
        {"curl_easy_perform", (void **)&table->easy_perform},
        {"curl_easy_strerror", (void **)&table->easy_strerror},
        {"curl_easy_setopt", (void **)&table->easy_setopt},
        {"curl_easy_getinfo", (void **)&table->easy_getinfo},
        {"curl_free", (void **)&table->free},
        {"curl_slist_append", (void **)&table->slist_append},
        {"curl_slist_free_all", (void **)&table->slist_free_all},
        {"curl_url", (void **)&table->url},
        {"curl_url_cleanup", (void **)&table->url_cleanup},
        {"curl_url_get", (void **)&table->url_get},
        {"curl_url_set", (void **)&table->url_set},
    };
    for (size_t index = 0; index < sizeof symbols / sizeof symbols[0]; index++) {
        *symbols[index].slot = dlsym(handle, symbols[index].name);
        if (*symbols[index].slot == NULL) {
            snprintf(error, error_size, "%s has no %s (libcurl 7.62 or later is needed)", soname, symbols[index].name);
            dlclose(handle);
            return -1;
        }
    }
    *library = handle;
    return 0;
}

static struct curl_functions curl;
static pthread_once_t opened = PTHREAD_ONCE_INIT;
static int open_result = -1;
static char open_error[512];

static void open_once(void) {
    void *library = NULL;
    if (load(TRELLIS_LIBCURL, &curl, &library, open_error, sizeof open_error) != 0) return;
    CURLcode code = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(open_error, sizeof open_error, "curl_global_init failed: %s", curl.easy_strerror(code));
        return;
    }
    open_result = 0;   /* the library stays open for the life of the process */
}

const char *trellis_curl_open(void) {
    pthread_once(&opened, open_once);
    return open_result == 0 ? NULL : open_error;
}

int trellis_curl_probe(const char *soname, char *error, size_t error_size) {
    struct curl_functions table;
    void *library = NULL;
    if (load(soname, &table, &library, error, error_size) != 0) return -1;
    dlclose(library);
    return 0;
}

CURL *trellis_curl_easy_init(void) { return curl.easy_init(); }
void trellis_curl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
void trellis_curl_easy_reset(CURL *handle) { curl.easy_reset(handle); }
CURLcode trellis_curl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }
const char *trellis_curl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
void trellis_curl_free(void *pointer) { curl.free(pointer); }
struct curl_slist *trellis_curl_slist_append(struct curl_slist *list, const char *text) { return curl.slist_append(list, text); }
void trellis_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }
CURLU *trellis_curl_url(void) { return curl.url(); }
void trellis_curl_url_cleanup(CURLU *url) { curl.url_cleanup(url); }
CURLUcode trellis_curl_url_get(CURLU *url, CURLUPart part, char **value, unsigned int flags) {
    return curl.url_get(url, part, value, flags);
}
CURLUcode trellis_curl_url_set(CURLU *url, CURLUPart part, const char *value, unsigned int flags) {
    return curl.url_set(url, part, value, flags);
}

CURLcode trellis_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode trellis_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode trellis_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode trellis_curl_set_data_function(CURL *handle, CURLoption option, trellis_curl_data_fn function) {
    return curl.easy_setopt(handle, option, function);
}
CURLcode trellis_curl_set_progress_function(CURL *handle, trellis_curl_progress_fn function) {
    return curl.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, function);
}
CURLcode trellis_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl.easy_getinfo(handle, info, value);
}
