/* SHA-256, raw and as lowercase hex: the payload fingerprints and rules_version. */
#ifndef PMHC_DIGEST_H
#define PMHC_DIGEST_H

#include <stddef.h>

#define PMHC_SHA256_LEN 32
#define PMHC_SHA256_HEX_LEN (2 * PMHC_SHA256_LEN)

/* 0, or -1 on a library failure (out is then all zero). */
int pmhc_sha256(const void *data, size_t len, unsigned char out[PMHC_SHA256_LEN]);

/* The digest as 64 lowercase hex digits and a NUL. 0, or -1 (out is then ""). */
int pmhc_sha256_hex(const void *data, size_t len, char out[PMHC_SHA256_HEX_LEN + 1]);

#endif
