/* One 64-bit hash for the (psap_id, id) keys of calls and units. Pure. */
#ifndef PMHC_PAIRHASH_H
#define PMHC_PAIRHASH_H

#include <stdint.h>

/*
 * FNV-1a over "a\0b": the NUL keeps ("ab", "c") apart from ("a", "bc"). Good
 * spread for open addressing; not meant to resist an attacker choosing ids.
 */
static inline uint64_t pmhc_pair_hash(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *p = a;; p++) {
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		if (*p == '\0')
			break;
	}
	for (const char *p = b; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

#endif
