/*
 * keycache — see keycache.h. Chained hashing over a fixed array of slots, with the slots
 * also on a doubly linked recency list; all links are indices, so the whole cache is
 * three allocations plus one per key, made once the cache has filled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keycache.h"

#define NIL UINT32_MAX

struct slot {
	struct pmhc_keycache_value v;
	char *key;
	size_t keylen;
	uint64_t hash;
	uint32_t chain;        /* next slot in the same bucket */
	uint32_t newer, older; /* recency list */
};

struct pmhc_keycache {
	struct slot *slots;
	uint32_t *buckets;
	size_t mask; /* bucket count - 1 (a power of two) */
	size_t capacity, used;
	uint32_t newest, oldest;
};

/* FNV-1a: keys are short identifiers, for which it spreads well enough. */
static uint64_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 14695981039346656037ULL;

	while (len--) {
		h ^= *p++;
		h *= 1099511628211ULL;
	}
	return h;
}

struct pmhc_keycache *pmhc_keycache_new(size_t capacity)
{
	struct pmhc_keycache *c;
	size_t nb = 16, i;

	if (capacity == 0 || capacity >= NIL / 2)
		return NULL;
	/* At most half full, so chains stay short without ever rehashing. */
	while (nb < capacity * 2)
		nb *= 2;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slots = calloc(capacity, sizeof(*c->slots));
	c->buckets = malloc(nb * sizeof(*c->buckets));
	if (!c->slots || !c->buckets) {
		pmhc_keycache_free(c);
		return NULL;
	}
	for (i = 0; i < nb; i++)
		c->buckets[i] = NIL;
	c->mask = nb - 1;
	c->capacity = capacity;
	c->newest = c->oldest = NIL;
	return c;
}

void pmhc_keycache_free(struct pmhc_keycache *c)
{
	size_t i;

	if (!c)
		return;
	if (c->slots)
		for (i = 0; i < c->used; i++) {
			free(c->slots[i].key);
			free(c->slots[i].v.text);
		}
	free(c->slots);
	free(c->buckets);
	free(c);
}

size_t pmhc_keycache_count(const struct pmhc_keycache *c)
{
	return c->used;
}

static void unlink_recency(struct pmhc_keycache *c, uint32_t i)
{
	struct slot *s = &c->slots[i];

	if (s->newer != NIL)
		c->slots[s->newer].older = s->older;
	else
		c->newest = s->older;
	if (s->older != NIL)
		c->slots[s->older].newer = s->newer;
	else
		c->oldest = s->newer;
}

static void push_newest(struct pmhc_keycache *c, uint32_t i)
{
	struct slot *s = &c->slots[i];

	s->newer = NIL;
	s->older = c->newest;
	if (c->newest != NIL)
		c->slots[c->newest].newer = i;
	c->newest = i;
	if (c->oldest == NIL)
		c->oldest = i;
}

static void unlink_chain(struct pmhc_keycache *c, uint32_t i)
{
	uint32_t *link = &c->buckets[c->slots[i].hash & c->mask];

	while (*link != i)
		link = &c->slots[*link].chain;
	*link = c->slots[i].chain;
}

static uint32_t find(const struct pmhc_keycache *c, const void *key, size_t keylen, uint64_t h)
{
	uint32_t i;

	for (i = c->buckets[h & c->mask]; i != NIL; i = c->slots[i].chain) {
		const struct slot *s = &c->slots[i];

		if (s->hash == h && s->keylen == keylen && memcmp(s->key, key, keylen) == 0)
			return i;
	}
	return NIL;
}

struct pmhc_keycache_value *pmhc_keycache_get(struct pmhc_keycache *c, const void *key, size_t keylen)
{
	uint32_t i = find(c, key, keylen, hash_bytes(key, keylen));

	if (i == NIL)
		return NULL;
	unlink_recency(c, i);
	push_newest(c, i);
	return &c->slots[i].v;
}

struct pmhc_keycache_value *pmhc_keycache_put(struct pmhc_keycache *c, const void *key, size_t keylen, int *created)
{
	uint64_t h = hash_bytes(key, keylen);
	uint32_t i = find(c, key, keylen, h);
	struct slot *s;
	char *copy;

	*created = 0;
	if (i != NIL) {
		unlink_recency(c, i);
		push_newest(c, i);
		return &c->slots[i].v;
	}
	/* +1 so that an empty key still gets a non-NULL copy. */
	copy = malloc(keylen + 1);
	if (!copy)
		return NULL;
	memcpy(copy, key, keylen);

	if (c->used < c->capacity) {
		i = (uint32_t)c->used++;
	} else {
		i = c->oldest;
		unlink_recency(c, i);
		unlink_chain(c, i);
		free(c->slots[i].key);
		free(c->slots[i].v.text);
	}
	s = &c->slots[i];
	memset(s, 0, sizeof(*s));
	s->key = copy;
	s->keylen = keylen;
	s->hash = h;
	s->chain = c->buckets[h & c->mask];
	c->buckets[h & c->mask] = i;
	push_newest(c, i);
	*created = 1;
	return &s->v;
}
