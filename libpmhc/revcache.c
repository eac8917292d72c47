#include "revcache.h"

#include <stdlib.h>

#include "pairhash.h"

/*
 * Set-associative: a call may sit in any of the WAYS slots of its set, and a new
 * call takes the set's oldest slot only when all are in use. Direct-mapped, one
 * call in 25 of the last 40,000 had already been pushed out by another that hashed
 * to its slot, and a replay after a rebalance published those again (the
 * cluster_faults test saw it). With 8 ways, the newest hundred thousand calls in
 * the default 2^20 slots all stay: a set would need 9 of them.
 */
#define WAYS 8

struct slot {
	uint64_t key; /* 0 = empty */
	uint32_t revision;
	uint32_t stamp; /* when noted, in notes: the oldest goes first */
};

struct pmhc_revcache {
	struct slot *slots;
	unsigned set_bits; /* log2 of the number of sets */
	uint32_t clock;
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
	size_t n = WAYS;
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
	c->set_bits = 0;
	while (((size_t)WAYS << c->set_bits) < n)
		c->set_bits++;
	c->clock = 0;
	return c;
}

void pmhc_revcache_free(struct pmhc_revcache *c)
{
	if (c != NULL)
		free(c->slots);
	free(c);
}

/*
 * The set from the high bits of the key times 2^64 / phi (Fibonacci hashing): the
 * low bits of FNV-1a alone put similar ids (Q-000302 and Q-005969) in one set.
 */
static struct slot *set_of(const struct pmhc_revcache *c, uint64_t k)
{
	if (c->set_bits == 0)
		return c->slots;
	return &c->slots[(size_t)((k * 0x9E3779B97F4A7C15ULL) >> (64 - c->set_bits)) * WAYS];
}

bool pmhc_revcache_stale(const struct pmhc_revcache *c, const char *psap_id, const char *call_id, uint32_t revision)
{
	if (revision == 0)
		return false;
	uint64_t k = key_of(psap_id, call_id);
	const struct slot *set = set_of(c, k);
	for (int w = 0; w < WAYS; w++)
		if (set[w].key == k)
			return revision <= set[w].revision;
	return false;
}

bool pmhc_revcache_known(const struct pmhc_revcache *c, const char *psap_id, const char *call_id)
{
	uint64_t k = key_of(psap_id, call_id);
	const struct slot *set = set_of(c, k);
	for (int w = 0; w < WAYS; w++)
		if (set[w].key == k)
			return true;
	return false;
}

void pmhc_revcache_note(struct pmhc_revcache *c, const char *psap_id, const char *call_id, uint32_t revision)
{
	uint64_t k = key_of(psap_id, call_id);
	struct slot *set = set_of(c, k), *s = NULL;
	for (int w = 0; w < WAYS && s == NULL; w++)
		if (set[w].key == k)
			s = &set[w];
	if (s != NULL && revision < s->revision)
		return;
	for (int w = 0; w < WAYS && s == NULL; w++)
		if (set[w].key == 0)
			s = &set[w];
	if (s == NULL) {
		/* The oldest; ages as unsigned differences from now stay right across the clock's wrap. */
		s = &set[0];
		for (int w = 1; w < WAYS; w++)
			if (c->clock - set[w].stamp > c->clock - s->stamp)
				s = &set[w];
	}
	s->key = k;
	s->revision = revision;
	s->stamp = c->clock++;
}
