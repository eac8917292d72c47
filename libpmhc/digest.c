#include "digest.h"

#include <string.h>

#include <openssl/evp.h>

int pmhc_sha256(const void *data, size_t len, unsigned char out[PMHC_SHA256_LEN])
{
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, out, &mdlen, EVP_sha256(), NULL) || mdlen != PMHC_SHA256_LEN) {
		memset(out, 0, PMHC_SHA256_LEN);
		return -1;
	}
	return 0;
}

int pmhc_sha256_hex(const void *data, size_t len, char out[PMHC_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[PMHC_SHA256_LEN];

	out[0] = '\0';
	if (pmhc_sha256(data, len, md) != 0)
		return -1;
	for (size_t i = 0; i < PMHC_SHA256_LEN; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[PMHC_SHA256_HEX_LEN] = '\0';
	return 0;
}
