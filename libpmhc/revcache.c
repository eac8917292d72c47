#include "revcache.h"

#include <stdlib.h>

#include "pairhash.h"

struct slot {
	uint64_t key;		/* 0 = empty */
	uint32_t revision;
};

struct pmhc_revcache {
	struct slot *slots;
	size_t mask;
};

/*
 * A collision would make a new revision of one call look stale because of
 * another; at 2^-64 per pair it is far below any other failure. 0 is kept
 * free to mean "empty".
 */
static uint64_t key_of(const char *psap, const char *call)
{
	uint64_t h = pmhc_pair_hash(psap, call);
	return h ? h : 1;
}

struct pmhc_revcache *pmhc_revcache_new(size_t slots)
{
	size_t n = 1;
	while (n < slots)
		n <<= 1;
	struct pmhc_revcache *c = malloc(sizeof *c);
	if (c == NULL)
		return NULL;
	c->slots = calloc(n, sizeof *c->slots);
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	/*
	 * Touched now, page by page, the table is resident from the start: the
	 * daemon's memory is then what it will stay, instead of creeping up each
	 * time a call lands on a page not touched yet. (A plain memset after
	 * calloc is folded away by the compiler.)
	 */
	for (size_t off = 0; off < n * sizeof *c->slots; off += 4096)
		((volatile unsigned char *)c->slots)[off] = 0;
	c->mask = n - 1;
	return c;
}

void pmhc_revcache_free(struct pmhc_revcache *c)
{
	if (c != NULL)
		free(c->slots);
	free(c);
}

bool pmhc_revcache_stale(const struct pmhc_revcache *c, const char *psap_id, const char *call_id,
			 uint32_t revision)
{
	if (revision == 0)
		return false;
	uint64_t k = key_of(psap_id, call_id);
	const struct slot *s = &c->slots[k & c->mask];
	return s->key == k && revision <= s->revision;
}

void pmhc_revcache_note(struct pmhc_revcache *c, const char *psap_id, const char *call_id,
			uint32_t revision)
{
	uint64_t k = key_of(psap_id, call_id);
	struct slot *s = &c->slots[k & c->mask];
	if (s->key == k && revision < s->revision)
		return;
	s->key = k;
	s->revision = revision;
}
