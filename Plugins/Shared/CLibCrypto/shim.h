/*
 * shim.h — the one libcrypto (OpenSSL) function channel plugins need:
 * HMAC-SHA256, for signing webhooks. A C library, so a plugin carries no
 * second copy of a Swift crypto module into the host process.
 */
#ifndef TRELLIS_LIBCRYPTO_SHIM_H
#define TRELLIS_LIBCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Writes the 32-byte HMAC-SHA256 of `data` under `key` to `out`; returns 1 on success. */
static inline int trellis_hmac_sha256(const void *key, int key_length, const unsigned char *data, size_t length,
                                      unsigned char out[32]) {
    unsigned int written = 0;
    return HMAC(EVP_sha256(), key, key_length, data, length, out, &written) != NULL && written == 32;
}

#endif
