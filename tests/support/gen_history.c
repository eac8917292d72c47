/*
 * pmhc-gen-history: a reproducible history of calls and dispositions for one
 * PSAP, as pmhc-produce JSON lines, and — computed here, independently of the
 * SQL views — the figures those views must show for it:
 *
 *   month YYYY-MM-01 mh_calls with_outcome connected arrests use_of_force holds repeat_calls repeat_subjects
 *   period baseline|current  (the same eight counts)
 *   hourdow ISODOW HOUR mh_calls
 *   diversion YYYY-MM-01 mh_calls_911 transferred_988
 *
 * Local time comes from the C library's own time-zone code (TZ + localtime_r),
 * not PostgreSQL's; repeat encounters from a plain scan of each subject's calls.
 * Calls are placed on purpose next to local midnight at month ends, at the year
 * boundary between the periods, and around the DST changes.
 *
 * Usage: pmhc-gen-history --calls N --seed S --tz ZONE --jsonl FILE [--expect FILE]
 * Without --expect (benchmarks) the figures, and their slow repeat scan, are skipped.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PSAP "GEN"
#define REPEAT_THRESHOLD 3
#define REPEAT_WINDOW_MS (90LL * 86400000LL)
#define SUBJECTS 300

/* Disposition codes by number, as the wire contract has them. */
enum {
	D_RESOLVED = 1,
	D_REFERRED,
	D_TO_CRISIS,
	D_TO_ER,
	D_HOLD,
	D_ARREST,
	D_CITATION,
	D_TO_988,
	D_NO_CONTACT,
	D_CANCELLED
};
static const char *const disp_names[] = {
	"DISP_UNSPECIFIED",     "DISP_RESOLVED_ON_SCENE", "DISP_REFERRED",  "DISP_TRANSPORTED_CRISIS_CENTER",
	"DISP_TRANSPORTED_ER",  "DISP_INVOLUNTARY_HOLD",  "DISP_ARREST",    "DISP_CITATION",
	"DISP_TRANSFERRED_988", "DISP_NO_CONTACT",        "DISP_CANCELLED",
};

struct call {
	int64_t at_ms;
	bool mh, is_988;
	int subject; /* -1: no subject key */
	bool has_disp;
	int code;
	bool arrest, force, connected, unavailable;
	struct tm local;
	bool repeat;
};

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static double unit(void)
{
	return rnd() / 4294967296.0;
}

/* Local midnight of a date in the zone in force (TZ), as Unix ms. */
static int64_t local_ms(int y, int mon, int d, int h, int min)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = min, .tm_isdst = -1
	};
	return (int64_t)mktime(&tm) * 1000;
}

static int cmp_call(const void *a, const void *b)
{
	const struct call *x = a, *y = b;
	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

struct counts {
	long mh, with_outcome, connected, arrests, force, holds, repeats, repeat_subjects;
};

static void add(struct counts *c, const struct call *k)
{
	c->mh++;
	bool counted = k->has_disp && k->code != D_CANCELLED && k->code != D_NO_CONTACT;
	if (counted) {
		c->with_outcome++;
		c->connected += k->connected || k->code == D_REFERRED || k->code == D_TO_CRISIS || k->code == D_TO_988;
		c->arrests += k->arrest || k->code == D_ARREST;
		c->force += k->force;
		c->holds += k->code == D_HOLD;
	}
	c->repeats += k->repeat;
}

static void print_counts(FILE *f, const char *label, const char *key, const struct counts *c)
{
	fprintf(f, "%s %s %ld %ld %ld %ld %ld %ld %ld %ld\n", label, key, c->mh, c->with_outcome, c->connected,
		c->arrests, c->force, c->holds, c->repeats, c->repeat_subjects);
}

int main(int argc, char **argv)
{
	long n = 4000;
	unsigned long seed = 42;
	const char *tz = "America/Toronto", *jsonl = NULL, *expect = NULL;
	static const struct option opts[] = {
		{ "calls", required_argument, NULL, 'n' },  { "seed", required_argument, NULL, 's' },
		{ "tz", required_argument, NULL, 'z' },     { "jsonl", required_argument, NULL, 'j' },
		{ "expect", required_argument, NULL, 'e' }, { NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 's': seed = strtoul(optarg, NULL, 10); break;
		case 'z': tz = optarg; break;
		case 'j': jsonl = optarg; break;
		case 'e': expect = optarg; break;
		default:
			fprintf(stderr,
				"usage: pmhc-gen-history --calls N --seed S --tz ZONE --jsonl FILE --expect FILE\n");
			return 64;
		}
	}
	if (jsonl == NULL || n < 100) {
		fprintf(stderr, "pmhc-gen-history: --jsonl is required, --calls at least 100\n");
		return 64;
	}
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	setenv("TZ", tz, 1);
	tzset();

	/* 2023-10-01 to 2026-01-01 local: baseline 2024, current 2025, and a lead-in for repeats. */
	int64_t from = local_ms(2023, 10, 1, 0, 0), to = local_ms(2026, 1, 1, 0, 0);
	/* Edges: local midnight at month ends (both sides), the period boundary, DST changes. */
	int64_t edges[64];
	size_t n_edges = 0;
	for (int y = 2023; y <= 2025; y++)
		for (int m = 1; m <= 12; m++)
			if (n_edges < 40 && local_ms(y, m, 1, 0, 0) > from)
				edges[n_edges++] = local_ms(y, m, 1, 0, 0);
	edges[n_edges++] = local_ms(2024, 3, 10, 3, 0);  /* spring forward (America/Toronto) */
	edges[n_edges++] = local_ms(2024, 11, 3, 1, 30); /* fall back: 01:30 happens twice */
	edges[n_edges++] = local_ms(2025, 3, 9, 3, 0);
	edges[n_edges++] = local_ms(2025, 11, 2, 1, 30);

	struct call *calls = calloc((size_t)n, sizeof *calls);
	for (long i = 0; i < n; i++) {
		struct call *c = &calls[i];
		if (i % 10 == 0) {
			/* Within ±90 minutes of an edge, to the second. */
			c->at_ms = edges[rnd() % n_edges] + ((int64_t)(rnd() % 10800) - 5400) * 1000;
		} else {
			c->at_ms = from + (int64_t)(unit() * (double)(to - from));
		}
		c->at_ms -= c->at_ms % 1000;
		c->mh = rnd() % 100 < 75;
		c->is_988 = c->mh && rnd() % 100 < 12;
		/* A heavy head of frequent subjects, so that repeats happen across periods. */
		c->subject = rnd() % 100 < 65 ? (int)(SUBJECTS * unit() * unit() * unit()) : -1;
		c->has_disp = rnd() % 100 < 85;
		int r = (int)(rnd() % 100);
		c->code = r < 30   ? D_RESOLVED
			  : r < 45 ? D_REFERRED
			  : r < 52 ? D_TO_CRISIS
			  : r < 60 ? D_TO_ER
			  : r < 68 ? D_HOLD
			  : r < 74 ? D_ARREST
			  : r < 78 ? D_CITATION
			  : r < 84 ? D_TO_988
			  : r < 92 ? D_NO_CONTACT
				   : D_CANCELLED;
		c->arrest = rnd() % 100 < 4;
		c->force = rnd() % 100 < 6;
		c->connected = rnd() % 100 < 10;
		c->unavailable = rnd() % 100 < 5;
	}
	qsort(calls, (size_t)n, sizeof *calls, cmp_call);
	/* Equal times would make "before" depend on nothing: keep every call's time its own. */
	for (long i = 1; i < n; i++)
		if (calls[i].at_ms <= calls[i - 1].at_ms)
			calls[i].at_ms = calls[i - 1].at_ms + 1000;

	/* Repeat encounters, by a plain scan of each subject's earlier MH calls. */
	for (long i = 0; i < n; i++) {
		struct call *c = &calls[i];
		time_t t = (time_t)(c->at_ms / 1000);
		localtime_r(&t, &c->local);
		if (expect == NULL || !c->mh || c->subject < 0)
			continue;
		int before = 0;
		for (long j = i - 1; j >= 0 && calls[j].at_ms >= c->at_ms - REPEAT_WINDOW_MS; j--)
			before += calls[j].mh && calls[j].subject == c->subject;
		c->repeat = before >= REPEAT_THRESHOLD - 1;
	}

	FILE *out = fopen(jsonl, "w");
	if (out == NULL) {
		perror(jsonl);
		return 73;
	}
	for (long i = 0; i < n; i++) {
		const struct call *c = &calls[i];
		char subject[48] = "";
		if (c->subject >= 0)
			snprintf(subject, sizeof subject, ",\"subject_key\":\"RMS-%04d\"", c->subject);
		fprintf(out,
			"{\"type\":\"call\",\"call_id\":\"G-%06ld\",\"psap_id\":\"" PSAP "\",\"revision\":1,"
			"\"received_at_ms\":%lld,\"source\":\"%s\",\"nature_code\":\"%s\","
			"\"location\":{\"beat\":\"B%ld\",\"district\":\"D%ld\"},"
			"\"screening\":{\"mental_health_issue\":\"%s\"}%s}\n",
			i, (long long)c->at_ms, c->is_988 ? "SOURCE_988" : "SOURCE_911", c->mh ? "WELFARE" : "BURG",
			i % 17, i % 5, c->mh ? "ANSWER_YES" : "ANSWER_NO", subject);
		if (!c->has_disp)
			continue;
		/* Some calls get an earlier disposition first that a later one replaces. */
		if (i % 7 == 0)
			fprintf(out,
				"{\"type\":\"disposition\",\"call_id\":\"G-%06ld\",\"psap_id\":\"" PSAP "\","
				"\"closed_at_ms\":%lld,\"code\":\"DISP_ARREST\",\"arrest\":true,\"use_of_force\":true}\n",
				i, (long long)c->at_ms + 600000);
		fprintf(out,
			"{\"type\":\"disposition\",\"call_id\":\"G-%06ld\",\"psap_id\":\"" PSAP "\","
			"\"closed_at_ms\":%lld,\"code\":\"%s\",\"arrest\":%s,\"use_of_force\":%s,"
			"\"connected_to_services\":%s,\"service_unavailable\":%s,\"service_name\":\"%s\"}\n",
			i, (long long)c->at_ms + 3600000, disp_names[c->code], c->arrest ? "true" : "false",
			c->force ? "true" : "false", c->connected ? "true" : "false", c->unavailable ? "true" : "false",
			c->unavailable ? "Crisis Beds" : "");
	}
	if (fclose(out) != 0) {
		perror(jsonl);
		return 74;
	}

	if (expect == NULL) {
		free(calls);
		return 0;
	}
	/* The figures, by local month and period. */
	FILE *ex = fopen(expect, "w");
	if (ex == NULL) {
		perror(expect);
		return 73;
	}
	enum { MONTHS = 27 }; /* 2023-10 .. 2025-12 */
	struct counts month[MONTHS] = { 0 }, period[2] = { 0 };
	long hourdow[8][24] = { { 0 } }, mh911[MONTHS] = { 0 }, to988[MONTHS] = { 0 };
	/* Distinct repeat subjects per month and per period. */
	static bool seen_m[MONTHS][SUBJECTS], seen_p[2][SUBJECTS];
	for (long i = 0; i < n; i++) {
		const struct call *c = &calls[i];
		if (!c->mh)
			continue;
		int y = c->local.tm_year + 1900, mi = (y - 2023) * 12 + c->local.tm_mon - 9;
		if (mi < 0 || mi >= MONTHS)
			continue;
		add(&month[mi], c);
		if (c->repeat && !seen_m[mi][c->subject]) {
			seen_m[mi][c->subject] = true;
			month[mi].repeat_subjects++;
		}
		int p = y == 2024 ? 0 : y == 2025 ? 1 : -1;
		if (p >= 0) {
			add(&period[p], c);
			if (c->repeat && !seen_p[p][c->subject]) {
				seen_p[p][c->subject] = true;
				period[p].repeat_subjects++;
			}
		}
		int dow = c->local.tm_wday == 0 ? 7 : c->local.tm_wday;
		hourdow[dow][c->local.tm_hour]++;
		if (!c->is_988) {
			mh911[mi]++;
			to988[mi] += c->has_disp && c->code == D_TO_988;
		}
	}
	for (int mi = 0; mi < MONTHS; mi++) {
		char key[16];
		snprintf(key, sizeof key, "%04d-%02d-01", 2023 + (mi + 9) / 12, (mi + 9) % 12 + 1);
		if (month[mi].mh)
			print_counts(ex, "month", key, &month[mi]);
		if (mh911[mi])
			fprintf(ex, "diversion %s %ld %ld\n", key, mh911[mi], to988[mi]);
	}
	print_counts(ex, "period", "baseline", &period[0]);
	print_counts(ex, "period", "current", &period[1]);
	for (int d = 1; d <= 7; d++)
		for (int h = 0; h < 24; h++)
			if (hourdow[d][h])
				fprintf(ex, "hourdow %d %d %ld\n", d, h, hourdow[d][h]);
	if (fclose(ex) != 0) {
		perror(expect);
		return 74;
	}
	free(calls);
	return 0;
}
