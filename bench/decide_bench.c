/*
 * The decision engine alone: screening + flowchart per call, and the whole
 * per-call hot path of the daemon (validate + decide + build + pack the
 * Recommendation). Prints nanoseconds per call; asserts nothing about time.
 *
 *   decide_bench [CALLS] [ROUNDS]     (defaults 4096 distinct calls, 500 rounds)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "decide.h"
#include "recommend.h"
#include "wire.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t next(void)
{
	/* xorshift64*: reproducible, no libc state. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A realistic mix: most calls are not MH, answers mostly unknown or no. */
static Pmhc__V1__Answer answer(unsigned yes_pct)
{
	unsigned r = next() % 100;
	return r < yes_pct ? PMHC__V1__ANSWER__ANSWER_YES
	       : r < 60    ? PMHC__V1__ANSWER__ANSWER_UNKNOWN
			   : PMHC__V1__ANSWER__ANSWER_NO;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 4096;
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
	static const char *const natures[] = { "BURG",    "EDP",  "mntl",    "SUICIDE", "OD",       "WELFARE",
					       "DISTURB", "MTLV", "ASSAULT", " intox ", "SUICTHRT", "THEFT" };
	static const char *const premises[] = { "MH_HISTORY", "WEAPONS_HISTORY", "VIOLENCE_HISTORY", "DOG" };

	struct pmhc_rules *rules = pmhc_rules_default();
	Pmhc__V1__CallEvent *calls = calloc(n, sizeof *calls);
	Pmhc__V1__Screening *scr = calloc(n, sizeof *scr);
	Pmhc__V1__Location *loc = calloc(n, sizeof *loc);
	char **prem = calloc(n * 2, sizeof *prem);
	char(*ids)[24] = calloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		Pmhc__V1__CallEvent *c = &calls[i];
		pmhc__v1__call_event__init(c);
		pmhc__v1__screening__init(&scr[i]);
		pmhc__v1__location__init(&loc[i]);
		snprintf(ids[i], sizeof ids[i], "24-%06zu", i);
		c->call_id = ids[i];
		c->psap_id = (char *)"TPS";
		c->revision = 1;
		c->received_at_ms = 1763870400000LL + (int64_t)i * 1000;
		c->source = next() % 10 == 0 ? PMHC__V1__CALL_SOURCE__SOURCE_988 : PMHC__V1__CALL_SOURCE__SOURCE_911;
		c->nature_code = (char *)natures[next() % (sizeof natures / sizeof natures[0])];
		c->screening = &scr[i];
		c->location = &loc[i];
		loc[i].beat = (char *)"52-3";
		loc[i].lat = 43.6 + (next() % 1000) / 10000.0;
		loc[i].lon = -79.4 + (next() % 1000) / 10000.0;
		scr[i].mental_health_issue = answer(30);
		scr[i].about_mental_state = answer(25);
		scr[i].substance_use = answer(15);
		scr[i].weapon_involved = answer(5);
		scr[i].violence_in_progress = answer(5);
		scr[i].danger_to_self = answer(15);
		scr[i].danger_to_others = answer(5);
		scr[i].history_of_violence = answer(8);
		scr[i].at_risk_of_victimization = answer(5);
		scr[i].off_medication = answer(10);
		scr[i].medical_emergency = answer(5);
		c->premise_flags = &prem[2 * i];
		c->n_premise_flags = next() % 3;
		for (size_t k = 0; k < c->n_premise_flags; k++)
			prem[2 * i + k] = (char *)premises[next() % 4];
	}

	/* 1. Screening + flowchart. */
	struct pmhc_decision d;
	uintptr_t sink = 0;
	size_t mh = 0;
	for (size_t i = 0; i < n; i++) { /* warm-up, and the mix in numbers */
		pmhc_decide(rules, &calls[i], &d);
		mh += d.mental_health_call;
	}
	double t0 = now_ns();
	for (long r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++) {
			pmhc_decide(rules, &calls[i], &d);
			sink += (uintptr_t)d.rule + d.screening.flags;
		}
	double decide_ns = (now_ns() - t0) / ((double)rounds * (double)n);

	/* 2. The daemon's whole per-call path: bytes in → validated → decided → packed out. */
	uint8_t **wire = calloc(n, sizeof *wire);
	size_t *wlen = calloc(n, sizeof *wlen);
	for (size_t i = 0; i < n; i++) {
		wlen[i] = pmhc__v1__call_event__get_packed_size(&calls[i]);
		wire[i] = malloc(wlen[i]);
		pmhc__v1__call_event__pack(&calls[i], wire[i]);
	}
	static struct pmhc_rec_scratch sc;
	uint8_t out[4096];
	/* As in the daemon: decoded calls live in a per-batch arena, reset every 2000 calls. */
	struct pmhc_arena arena;
	pmhc_arena_init(&arena, 256 * 1024);
	size_t in_batch = 0;
	long rounds2 = rounds / 10 > 0 ? rounds / 10 : 1;
	t0 = now_ns();
	for (long r = 0; r < rounds2; r++)
		for (size_t i = 0; i < n; i++) {
			struct pmhc_wire_report rep;
			Pmhc__V1__CallEvent *c =
				pmhc_wire_call(wire[i], wlen[i], 262144, 1763870400000LL, &arena.pb, &rep);
			pmhc_decide(rules, c, &d);
			pmhc_recommend(rules, c, &d, NULL, 1763870400000LL, &sc);
			sink += pmhc__v1__recommendation__pack(&sc.rec, out);
			if (++in_batch == 2000) {
				pmhc_arena_reset(&arena);
				in_batch = 0;
			}
		}
	double path_ns = (now_ns() - t0) / ((double)rounds2 * (double)n);

	printf("decision engine: %zu distinct calls (%.0f%% mental-health), %ld rounds\n", n,
	       100.0 * (double)mh / (double)n, rounds);
	printf("  screening + flowchart:                  %8.1f ns/call  (%.2f M calls/s on one core)\n", decide_ns,
	       1e3 / decide_ns);
	printf("  decode + validate + decide + pack rec:  %8.1f ns/call  (%.2f M calls/s on one core)\n", path_ns,
	       1e3 / path_ns);
	printf("  (checksum %lu)\n", (unsigned long)(sink & 0xffff));

	pmhc_arena_destroy(&arena);
	for (size_t i = 0; i < n; i++)
		free(wire[i]);
	free(wire);
	free(wlen);
	free(calls);
	free(scr);
	free(loc);
	free(prem);
	free(ids);
	pmhc_rules_free(rules);
	return 0;
}
