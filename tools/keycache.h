/*
 * keycache — a bounded map from byte-string keys to two integers and a string, that
 * forgets the least recently used entry when it is full.
 *
 * pmhc-watch runs for days beside a busy dispatch floor; what it remembers about calls
 * (beats, the newest revision shown) must stay bounded however many calls go by. A call
 * forgotten after CAPACITY newer ones costs only a "beat ?" or a missed STALE mark.
 */
#ifndef PMHC_KEYCACHE_H
#define PMHC_KEYCACHE_H

#include <stddef.h>
#include <stdint.h>

/* The caller's values; a new entry starts as { 0, 0, NULL }. */
struct pmhc_keycache_value {
	int64_t a;
	int64_t b;
	char *text; /* malloc'd or NULL; owned by the cache once stored */
};

struct pmhc_keycache;

/* A cache of at most CAPACITY (1 or more) entries; NULL when memory runs out. */
struct pmhc_keycache *pmhc_keycache_new(size_t capacity);

/* Frees the cache, its keys and every entry's text. NULL is allowed. */
void pmhc_keycache_free(struct pmhc_keycache *c);

/* The entry for KEY (KEYLEN bytes), now the most recently used; NULL if absent. */
struct pmhc_keycache_value *pmhc_keycache_get(struct pmhc_keycache *c, const void *key, size_t keylen);

/*
 * The entry for KEY, added if absent (*CREATED set to 1, else 0), evicting the least
 * recently used entry when the cache is full. The key is copied. NULL when memory runs
 * out. The pointer is valid until the next put.
 */
struct pmhc_keycache_value *pmhc_keycache_put(struct pmhc_keycache *c, const void *key, size_t keylen, int *created);

/* The number of entries held. */
size_t pmhc_keycache_count(const struct pmhc_keycache *c);

#endif
