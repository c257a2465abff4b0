/*
 * trellis_curl.h — libcurl for the host, opened on first use.
 *
 * The host links no libcurl: a process that never makes an HTTP or SMTP
 * request (`trellis run` of most workflows, `trellis validate`) does not pay
 * for loading libcurl and the thirty libraries it needs, which was a third
 * of the host's start-up. The first request opens `libcurl.so.4` with
 * dlopen and resolves the functions below; each `trellis_curl_*` function
 * calls its libcurl namesake. The typed `set_*`/`get_long` wrappers stand
 * in for libcurl's variadic setopt/getinfo, which Swift cannot call.
 *
 * Types and constants come from libcurl's own header (libcurl4-openssl-dev).
 */
#ifndef TRELLIS_CURL_H
#define TRELLIS_CURL_H

#include <stddef.h>
#include <curl/curl.h>

typedef size_t (*trellis_curl_data_fn)(char *data, size_t size, size_t count, void *user);
typedef int (*trellis_curl_progress_fn)(void *user, curl_off_t dltotal, curl_off_t dlnow,
                                        curl_off_t ultotal, curl_off_t ulnow);

/*
 * Opens libcurl (once; later calls return the first answer) and runs
 * curl_global_init. Returns NULL when it is ready; otherwise what failed
 * (the dlopen or dlsym message), which stays valid for the process.
 */
const char *trellis_curl_open(void);

/*
 * Tries to open `soname` and resolve every function without keeping it:
 * what trellis_curl_open would say about that library. Returns 0, or -1
 * with the message in `error`.
 */
int trellis_curl_probe(const char *soname, char *error, size_t error_size);

/* The functions the host calls; valid only after trellis_curl_open returned 0. */
CURL *trellis_curl_easy_init(void);
void trellis_curl_easy_cleanup(CURL *handle);
void trellis_curl_easy_reset(CURL *handle);
CURLcode trellis_curl_easy_perform(CURL *handle);
const char *trellis_curl_easy_strerror(CURLcode code);
void trellis_curl_free(void *pointer);
struct curl_slist *trellis_curl_slist_append(struct curl_slist *list, const char *text);
void trellis_curl_slist_free_all(struct curl_slist *list);
CURLU *trellis_curl_url(void);
void trellis_curl_url_cleanup(CURLU *url);
CURLUcode trellis_curl_url_get(CURLU *url, CURLUPart part, char **value, unsigned int flags);
CURLUcode trellis_curl_url_set(CURLU *url, CURLUPart part, const char *value, unsigned int flags);

CURLcode trellis_curl_set_long(CURL *handle, CURLoption option, long value);
CURLcode trellis_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value);
/* Strings are copied by libcurl; other pointers must outlive the transfer. */
CURLcode trellis_curl_set_pointer(CURL *handle, CURLoption option, const void *value);
CURLcode trellis_curl_set_data_function(CURL *handle, CURLoption option, trellis_curl_data_fn function);
CURLcode trellis_curl_set_progress_function(CURL *handle, trellis_curl_progress_fn function);
CURLcode trellis_curl_get_long(CURL *handle, CURLINFO info, long *value);

#endif
