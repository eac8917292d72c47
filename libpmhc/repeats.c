#include <stdlib.h>
#include <string.h>

#include "pairhash.h"
#include "repeats.h"

#define MS_PER_DAY (24LL * 3600 * 1000)
/* The definitions' own bounds (migration 003): a window of at most 999,999 days. */
#define WINDOW_DAYS_MAX 999999
#define FIRST_SLOTS 1024
#define FIRST_TIMES 4

struct rule {
	char *psap_id; /* NULL: the default ("*") */
	int threshold;
	int64_t window_ms;
};

/* One subject of one PSAP: its calls' times, sorted. */
struct slot {
	uint64_t psap_hash;
	unsigned char subject[PMHC_SUBJECT_HASH_LEN];
	bool used;
	uint32_t n, cap;
	int64_t *t;
};

struct pmhc_repeats {
	struct rule *rules;
	size_t n_rules;
	struct slot *slots;
	size_t n_slots, used; /* n_slots is a power of two */
	size_t calls, max_calls;
};

struct pmhc_repeats *pmhc_repeats_new(size_t max_calls)
{
	struct pmhc_repeats *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->slots = calloc(FIRST_SLOTS, sizeof *r->slots);
	if (r->slots == NULL) {
		free(r);
		return NULL;
	}
	r->n_slots = FIRST_SLOTS;
	r->max_calls = max_calls;
	return r;
}

void pmhc_repeats_free(struct pmhc_repeats *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_slots; i++)
		free(r->slots[i].t);
	for (size_t i = 0; i < r->n_rules; i++)
		free(r->rules[i].psap_id);
	free(r->slots);
	free(r->rules);
	free(r);
}

size_t pmhc_repeats_calls(const struct pmhc_repeats *r)
{
	return r->calls;
}

bool pmhc_repeats_rule(struct pmhc_repeats *r, const char *psap_id, int threshold, int window_days)
{
	if (threshold < 2 || window_days < 1 || window_days > WINDOW_DAYS_MAX)
		return false;
	bool dflt = strcmp(psap_id, "*") == 0;
	struct rule *x = NULL;
	for (size_t i = 0; i < r->n_rules && x == NULL; i++)
		if (dflt ? r->rules[i].psap_id == NULL
			 : r->rules[i].psap_id != NULL && strcmp(r->rules[i].psap_id, psap_id) == 0)
			x = &r->rules[i];
	if (x == NULL) {
		struct rule *more = realloc(r->rules, (r->n_rules + 1) * sizeof *more);
		if (more == NULL)
			return false;
		r->rules = more;
		x = &r->rules[r->n_rules];
		*x = (struct rule){ NULL, 0, 0 };
		if (!dflt && (x->psap_id = strdup(psap_id)) == NULL)
			return false;
		r->n_rules++;
	}
	x->threshold = threshold;
	x->window_ms = window_days * MS_PER_DAY;
	return true;
}

static const struct rule *rule_of(const struct pmhc_repeats *r, const char *psap_id)
{
	const struct rule *dflt = NULL;
	for (size_t i = 0; i < r->n_rules; i++) {
		if (r->rules[i].psap_id == NULL)
			dflt = &r->rules[i];
		else if (strcmp(r->rules[i].psap_id, psap_id) == 0)
			return &r->rules[i];
	}
	return dflt;
}

/* The subject hash is an HMAC: its first bytes are already well spread. */
static size_t home(const struct pmhc_repeats *r, uint64_t psap_hash, const unsigned char *subject)
{
	uint64_t h;
	memcpy(&h, subject, sizeof h);
	return (size_t)((h ^ psap_hash) & (r->n_slots - 1));
}

static struct slot *find(struct pmhc_repeats *r, uint64_t psap_hash, const unsigned char *subject)
{
	for (size_t i = home(r, psap_hash, subject);; i = (i + 1) & (r->n_slots - 1)) {
		struct slot *s = &r->slots[i];
		if (!s->used || (s->psap_hash == psap_hash && memcmp(s->subject, subject, PMHC_SUBJECT_HASH_LEN) == 0))
			return s;
	}
}

/* Doubles the table at 70% full; false when out of memory (the table stays as it was). */
static bool grow(struct pmhc_repeats *r)
{
	if ((r->used + 1) * 10 < r->n_slots * 7)
		return true;
	struct pmhc_repeats bigger = *r;
	bigger.n_slots = r->n_slots * 2;
	bigger.slots = calloc(bigger.n_slots, sizeof *bigger.slots);
	if (bigger.slots == NULL)
		return false;
	for (size_t i = 0; i < r->n_slots; i++)
		if (r->slots[i].used)
			*find(&bigger, r->slots[i].psap_hash, r->slots[i].subject) = r->slots[i];
	free(r->slots);
	r->slots = bigger.slots;
	r->n_slots = bigger.n_slots;
	return true;
}

/* The first of the n sorted times at or after t. */
static uint32_t lower_bound(const int64_t *a, uint32_t n, int64_t t)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds t to the slot's sorted times; false when out of memory. */
static bool insert(struct slot *s, int64_t t)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : FIRST_TIMES;
		int64_t *more = cap > s->cap ? realloc(s->t, cap * sizeof *more) : NULL;
		if (more == NULL)
			return false;
		s->t = more;
		s->cap = cap;
	}
	uint32_t at = lower_bound(s->t, s->n, t);
	memmove(&s->t[at + 1], &s->t[at], (s->n - at) * sizeof *s->t);
	s->t[at] = t;
	s->n++;
	return true;
}

bool pmhc_repeats_guess(struct pmhc_repeats *r, const char *psap_id, const unsigned char subject[PMHC_SUBJECT_HASH_LEN],
			int64_t t_ms)
{
	const struct rule *rule = rule_of(r, psap_id);
	if (rule == NULL || r->calls >= r->max_calls || !grow(r))
		return false;
	uint64_t psap_hash = pmhc_pair_hash(psap_id, "");
	struct slot *s = find(r, psap_hash, subject);
	if (!s->used) {
		*s = (struct slot){ .psap_hash = psap_hash, .used = true };
		memcpy(s->subject, subject, PMHC_SUBJECT_HASH_LEN);
		r->used++;
	}
	if (!insert(s, t_ms))
		return false;
	r->calls++;
	uint32_t before = lower_bound(s->t, s->n, t_ms) - lower_bound(s->t, s->n, t_ms - rule->window_ms);
	return before >= (uint32_t)(rule->threshold - 1);
}
