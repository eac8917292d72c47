#include "subject.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int pmhc_subject_hash(const unsigned char *secret, size_t secret_len, const char *subject_key,
		      unsigned char out[PMHC_SUBJECT_HASH_LEN])
{
	unsigned int len = 0;
	if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)subject_key, strlen(subject_key), out,
		 &len) == NULL ||
	    len != PMHC_SUBJECT_HASH_LEN)
		return -1;
	return 0;
}
