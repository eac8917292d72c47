/* The pseudonym of the person in crisis (SPEC section 5). Pure. */
#ifndef PMHC_SUBJECT_H
#define PMHC_SUBJECT_H

#include <stddef.h>

#define PMHC_SUBJECT_HASH_LEN 32

/* HMAC-SHA256 of the key's UTF-8 bytes under secret. 0, or -1 on a library failure. */
int pmhc_subject_hash(const unsigned char *secret, size_t secret_len, const char *subject_key,
		      unsigned char out[PMHC_SUBJECT_HASH_LEN]);

#endif
