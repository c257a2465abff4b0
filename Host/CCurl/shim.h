/*
 * shim.h — typed wrappers around libcurl's variadic functions, which Swift
 * cannot call (curl_easy_setopt, curl_easy_getinfo). One wrapper per
 * argument type libcurl documents for the options Trellis sets.
 */
#ifndef TRELLIS_CURL_SHIM_H
#define TRELLIS_CURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*trellis_curl_data_fn)(char *data, size_t size, size_t count, void *user);
typedef int (*trellis_curl_progress_fn)(void *user, curl_off_t dltotal, curl_off_t dlnow,
                                        curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode trellis_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode trellis_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/* Strings are copied by libcurl; other pointers must outlive the transfer. */
static inline CURLcode trellis_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode trellis_curl_set_data_function(CURL *handle, CURLoption option, trellis_curl_data_fn function) {
    return curl_easy_setopt(handle, option, function);
}

static inline CURLcode trellis_curl_set_progress_function(CURL *handle, trellis_curl_progress_fn function) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, function);
}

static inline CURLcode trellis_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
