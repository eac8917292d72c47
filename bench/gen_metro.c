/*
 * pmhc-gen-metro: ten years of a metro center's CAD history as pmhc-produce JSON
 * lines on stdout, for the report benchmark (bench/report.sh). Reproducible from
 * its seed; nothing is checked against it, so it streams in time order and holds
 * nothing in memory.
 *
 *   pmhc-gen-metro --calls N [--seed S] [--years Y] [--psaps P]
 *
 * Calls from 2016-01-01 (UTC) for Y years (default 10) across P PSAPs (default 4,
 * M1..Mp, shares 40/30/20/10 %); about a fifth are mental-health calls; 12 % of
 * MH calls come in on 988; about half of MH calls name a subject from a
 * heavy-tailed pool of 50,000 per PSAP (the busiest person about 0.5 % of them: some 200 calls a year at 10,000,000 calls), so that a few people call often (repeat
 * encounters); 85 % get a disposition, a few of them with the service unavailable;
 * 8 districts of 6 beats per PSAP, more calls in the evening.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SUBJECTS 50000
#define FROM_MS 1451606400000LL /* 2016-01-01T00:00:00Z */

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static double unit(void)
{
	return (rnd() + 0.5) / 4294967296.0;
}

static const char *const codes[] = {
	"DISP_RESOLVED_ON_SCENE", "DISP_REFERRED",         "DISP_TRANSPORTED_CRISIS_CENTER",
	"DISP_TRANSPORTED_ER",    "DISP_INVOLUNTARY_HOLD", "DISP_ARREST",
	"DISP_CITATION",          "DISP_TRANSFERRED_988",  "DISP_NO_CONTACT",
	"DISP_CANCELLED"
};
/* Cumulative per cent of each code above. */
static const int code_cum[] = { 32, 47, 53, 61, 68, 73, 77, 82, 92, 100 };
static const char *const services[] = { "Crisis Beds", "Mobile Crisis Team", "Detox" };

static int pick_psap(int psaps)
{
	static const int cum[] = { 40, 70, 90, 100 };
	int r = (int)(rnd() % 100);
	if (psaps != 4)
		return (int)(rnd() % (uint32_t)psaps);
	for (int i = 0; i < 4; i++)
		if (r < cum[i])
			return i;
	return 3;
}

/* Evening-heavy: reject a uniform second of the day with a weight by hour. */
static int64_t shift_to_hour(int64_t at_ms)
{
	static const int w[24] = { 6, 5, 4, 3, 3, 3, 4, 5, 6, 7, 7, 8, 8, 8, 8, 9, 9, 10, 10, 10, 10, 9, 8, 7 };
	int64_t day = at_ms - at_ms % 86400000LL;
	for (;;) {
		int64_t s = rnd() % 86400;
		if ((int)(rnd() % 10) < w[s / 3600])
			return day + s * 1000;
	}
}

/* Codes the table knows, and now and then one it does not (for unknown_nature_codes). */
static const char *nature(int mh)
{
	/* Known to the built-in defaults, which the benchmark runs with. */
	static const char *const mh_codes[] = { "EDP", "MNTL", "SUICTHRT" };
	static const char *const other[] = { "OD", "INTOX" };
	if (rnd() % 1000 == 0)
		return "XFUTURE";
	return mh ? mh_codes[rnd() % 3] : other[rnd() % 2];
}

int main(int argc, char **argv)
{
	long n = 1000000, years = 10, psaps = 4;
	unsigned long seed = 1;
	static const struct option opts[] = { { "calls", required_argument, NULL, 'n' },
					      { "seed", required_argument, NULL, 's' },
					      { "years", required_argument, NULL, 'y' },
					      { "psaps", required_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 's': seed = strtoul(optarg, NULL, 10); break;
		case 'y': years = strtol(optarg, NULL, 10); break;
		case 'p': psaps = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: pmhc-gen-metro --calls N [--seed S] [--years Y] [--psaps P]\n");
			return 64;
		}
	}
	if (n < 1 || years < 1 || years > 50 || psaps < 1 || psaps > 26) {
		fprintf(stderr, "pmhc-gen-metro: --calls at least 1, --years 1 to 50, --psaps 1 to 26\n");
		return 64;
	}
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	double span = (double)years * 365.2425 * 86400000.0, gap = span / (double)n, t = (double)FROM_MS;
	for (long i = 0; i < n; i++) {
		t += -log(unit()) * gap;
		int64_t at = shift_to_hour((int64_t)t);
		int p = pick_psap((int)psaps);
		int mh = rnd() % 100 < 20, is988 = mh && rnd() % 100 < 12;
		char subject[48] = "";
		if (rnd() % 100 < (uint32_t)(mh ? 50 : 20))
			snprintf(subject, sizeof subject, ",\"subject_key\":\"S%c-%05d\"", 'A' + p,
				 (int)(SUBJECTS * pow(unit(), 2)));
		int district = (int)(rnd() % 8), beat = district * 6 + (int)(rnd() % 6);
		printf("{\"type\":\"call\",\"call_id\":\"M-%08ld\",\"psap_id\":\"M%d\",\"revision\":1,"
		       "\"received_at_ms\":%lld,\"source\":\"%s\",\"nature_code\":\"%s\","
		       "\"location\":{\"beat\":\"B%02d\",\"district\":\"D%d\"},"
		       "\"screening\":{\"mental_health_issue\":\"%s\"}%s}\n",
		       i, p + 1, (long long)at, is988 ? "SOURCE_988" : "SOURCE_911", nature(mh), beat, district,
		       mh ? "ANSWER_YES" : "ANSWER_NO", subject);
		if (rnd() % 100 >= 85)
			continue;
		int r = (int)(rnd() % 100), c = 0;
		while (r >= code_cum[c])
			c++;
		int unavailable = rnd() % 100 < 4;
		printf("{\"type\":\"disposition\",\"call_id\":\"M-%08ld\",\"psap_id\":\"M%d\",\"closed_at_ms\":%lld,"
		       "\"code\":\"%s\",\"arrest\":%s,\"use_of_force\":%s,\"connected_to_services\":%s,"
		       "\"service_unavailable\":%s,\"service_name\":\"%s\"}\n",
		       i, p + 1, (long long)at + 1800000 + rnd() % 7200000, codes[c],
		       rnd() % 100 < 3 ? "true" : "false", rnd() % 100 < 5 ? "true" : "false",
		       rnd() % 100 < 10 ? "true" : "false", unavailable ? "true" : "false",
		       unavailable ? services[rnd() % 3] : "");
	}
	return fflush(stdout) == 0 ? 0 : 74;
}
