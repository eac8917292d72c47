/*
 * pmhc-watch — a terminal console of pmhcd's recommendations, for a dispatcher or a
 * supervisor: one short block per recommendation, with the call's beat.
 *
 * Like pmhc-consume it reads without joining a consumer group (every partition assigned
 * explicitly, nothing ever committed), so any number of consoles can watch beside pmhcd
 * without taking partitions from it. librdkafka 2.0 accepts rd_kafka_assign() only on a
 * handle with a group.id: each console sets a private one that it never joins.
 *
 * A Recommendation carries no location, so the console also reads cad.calls and joins
 * on (psap_id, call_id, revision). Of a CallEvent it keeps only the beat and the time the
 * call came in: the subject key, the narrative and the rest never leave this file, so
 * the console shows no more than the information-sharing policy lets the
 * recommendation carry.
 */
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "cli.h"
#include "clock.h"
#include "keycache.h"
#include "pmhc.pb-c.h"
#include "render.h"

#define PROG "pmhc-watch"
#define POLL_MS 100
/* Started from now, calls of the last 15 minutes are read first so their beats are known. */
#define LOOKBACK_MS (15 * 60 * 1000)
/* How long a recommendation may wait for its CallEvent before it is shown with "beat ?". */
#define CALL_WAIT_MS 200
/* Reading cad.calls up to where it stood at the start may take no longer than this. */
#define PRIME_MAX_MS 10000
/* Calls remembered (beats, newest revision shown): about a busy center's day. */
#define CACHE_CALLS 10000
/* Recommendations held back waiting for their calls, at most. */
#define PENDING_MAX 4096
#define DEFAULT_WIDTH 80

enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct options {
	const char *brokers; /* -b; NULL: PMHC_BROKERS */
	const char *recs_topic;
	const char *calls_topic; /* "": no beats */
	const char *psap;        /* NULL: every PSAP */
	int from_beginning;
	int mh_only;
	long count;   /* -1: no limit */
	long idle_ms; /* 0: wait forever */
	enum color_when color;
};

/* A cad.calls partition, while the console reads it up to where it stood at the start. */
struct call_part {
	int32_t id;
	int64_t target; /* the end offset at the start */
	int done;
};

struct pending {
	Pmhc__V1__Recommendation *rec;
	int64_t arrived_ms;
};

struct watch {
	const struct options *opt;
	int color, utf8;
	/* (psap, call, revision) -> text: beat, a: received_at_ms */
	struct pmhc_keycache *calls;
	/* (psap, call) -> a: newest revision seen, b: 1 once any revision was shown */
	struct pmhc_keycache *newest;
	/* (psap, call, revision) of every recommendation handled, to drop repeats */
	struct pmhc_keycache *seen;
	struct call_part *parts;
	int nparts;
	int primed;
	int64_t primed_ms, started_ms;
	struct pending *queue; /* a ring of PENDING_MAX */
	size_t qhead, qlen;
	long shown;
};

static void usage(FILE *out)
{
	fputs("Usage: " PROG " [OPTION]...\n"
	      "Show pmhcd's dispatch recommendations as they are made, one block per\n"
	      "recommendation, for a dispatcher's or a supervisor's terminal.\n"
	      "\n"
	      "Each block is laid out for the terminal's width (80 columns when the output is\n"
	      "not a terminal and COLUMNS is not set):\n"
	      "\n"
	      "  14:02:07  TPS/24-000101  rev 2  beat 52-3  CIT_WITH_BACKUP  MH-CITB\n"
	      "            (supersedes rev 1)  no units  flags: MH WEAPON\n"
	      "            Mental-health call (weapon reported): send a CIT officer with\n"
	      "            patrol backup, code MH-CITB; not asked or unknown: violence in\n"
	      "            progress, danger to others, medical emergency, attempt in\n"
	      "            progress.\n"
	      "\n"
	      "Line 1: the local time of the decision, PSAP/call id, revision, the call's\n"
	      "beat, the response and the dispatch code. Line 2: the units recommended (\"no\n"
	      "units\" when none was free; \"CAD assigns patrol\" for STANDARD, for which pmhcd\n"
	      "picks no unit; \"on the phone, no unit\" for CALL_DIVERSION), the screening\n"
	      "flags, and when the call came in, if that was a minute or more before the\n"
	      "decision. Then pmhcd's summary for the dispatcher.\n"
	      "\n"
	      "Revisions. A block for a newer revision of a call already seen is marked\n"
	      "\"(supersedes rev N)\". A block for an older revision arriving after a newer\n"
	      "one is shown marked \"STALE -- superseded by rev M\": do not act on it. An exact\n"
	      "repeat of a (PSAP, call, revision) already handled, as pmhcd replays after a\n"
	      "restart, is not shown again. Revision 0 (a CAD that does not number its\n"
	      "updates) is never marked. The last 10000 calls are remembered.\n"
	      "\n"
	      "Beats. A recommendation carries no location: the beat comes from the call's\n"
	      "CallEvent on the calls topic, read beside it without joining a group. Started\n"
	      "from now, the console first reads the calls of the last 15 minutes. A\n"
	      "recommendation whose CallEvent has not arrived is held for up to 200 ms, then\n"
	      "shown with \"beat ?\". Only the beat and the time are taken from a CallEvent.\n"
	      "\n"
	      "Colour: the response is red for CIT_WITH_BACKUP, EMS_AND_CIT and\n"
	      "EMS_AND_CIT_WITH_BACKUP, yellow for CIT and CO_RESPONDER, green for the\n"
	      "responses without police (MOBILE_CRISIS, EMS_AND_MOBILE_CRISIS and\n"
	      "CALL_DIVERSION), plain for STANDARD; the call id is bold; STALE is in reverse\n"
	      "video.\n"
	      "\n"
	      "Options:\n"
	      "  -b, --brokers=LIST       Kafka bootstrap servers, host:port[,...]\n"
	      "                           (default: the PMHC_BROKERS environment variable)\n"
	      "  -X NAME=VALUE            set a librdkafka property; repeatable. Applied after\n"
	      "                           the defaults fetch.wait.max.ms=5 and a private\n"
	      "                           group.id, which is never joined or committed to\n"
	      "      --recommendations-topic=TOPIC\n"
	      "                           where pmhcd publishes (default pmhc.recommendations)\n"
	      "      --calls-topic=TOPIC  where the CAD publishes calls (default cad.calls);\n"
	      "                           \"\" to show no beats and read no calls\n"
	      "      --from-beginning     replay every recommendation the topics still hold\n"
	      "                           (default: only those made after the start)\n"
	      "      --psap=ID            only the calls of PSAP ID\n"
	      "      --mh-only            hide calls that are not mental-health calls; a call\n"
	      "                           shown before is still shown when a revision makes it\n"
	      "                           one that is not, so its earlier block is not left\n"
	      "                           standing\n"
	      "  -c, --count=N            exit after showing N blocks (repeats and hidden\n"
	      "                           calls do not count)\n"
	      "      --idle-ms=N          exit after N ms in which no recommendation arrives\n"
	      "                           (default 0 = never)\n"
	      "      --color[=WHEN]       colour the output: auto (default), always or never;\n"
	      "                           auto colours only a terminal whose TERM is not\n"
	      "                           \"dumb\", and never when NO_COLOR is set and not empty\n"
	      "  -h, --help               show this help and exit\n"
	      "  -V, --version            show the version and exit\n"
	      "\n"
	      "When it is reading it prints on stderr\n"
	      "  " PROG ": watching TOPIC (N partitions) from the end|beginning; ...\n"
	      "after which no recommendation published is missed. SIGINT or SIGTERM stops\n"
	      "it, with status 0.\n"
	      "\n"
	      "Environment:\n"
	      "  PMHC_BROKERS   the brokers when -b is not given\n"
	      "  COLUMNS        the width when the output is not a terminal\n"
	      "  NO_COLOR, TERM see --color\n"
	      "  TZ             the time zone of the times shown\n"
	      "\n"
	      "Exit status:\n"
	      "  0   stopped normally: N blocks shown, idle time out, or a signal\n"
	      "  1   --count N was given and fewer than N blocks were shown\n"
	      "  64  usage error\n"
	      "  69  the brokers or the recommendations topic could not be reached\n"
	      "  70  out of memory\n"
	      "\n"
	      "Examples:\n"
	      "  " PROG " -b kafka1:9093 -X security.protocol=SSL   # the live console\n"
	      "  " PROG " --psap TPS --mh-only\n"
	      "  " PROG " --from-beginning --color=never --idle-ms 5000 > today.txt\n",
	      out);
}

/* Asked for every block, so that a resized window is followed. */
static int output_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	long v;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols && pmhc_cli_parse_long(cols, 1, &v) == 0 && v < 10000)
		return (int)v;
	return DEFAULT_WIDTH;
}

static int use_color(enum color_when when)
{
	const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");

	if (when != COLOR_AUTO)
		return when == COLOR_ALWAYS;
	/* no-color.org: NO_COLOR counts when it is set and not empty. */
	return isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb") != 0 && !(no_color && *no_color);
}

/*
 * The cache key of a call, or of one revision of it (REV not NULL): the two ids with
 * their NUL terminators, so that no two pairs of ids make the same key. Malloc'd.
 */
static char *call_key(const char *psap, const char *call, const uint32_t *rev, size_t *len)
{
	size_t lp = strlen(psap) + 1, lc = strlen(call) + 1;
	char *k = malloc(lp + lc + sizeof(*rev));

	if (!k)
		return NULL;
	memcpy(k, psap, lp);
	memcpy(k + lp, call, lc);
	*len = lp + lc;
	if (rev) {
		memcpy(k + *len, rev, sizeof(*rev));
		*len += sizeof(*rev);
	}
	return k;
}

/* The cached CallEvent of REC's revision, NULL if it has not been read. */
static struct pmhc_keycache_value *lookup_call(struct watch *w, const Pmhc__V1__Recommendation *rec)
{
	struct pmhc_keycache_value *v;
	size_t len;
	char *key;

	if (!w->calls)
		return NULL;
	key = call_key(rec->psap_id, rec->call_id, &rec->revision, &len);
	if (!key)
		return NULL;
	v = pmhc_keycache_get(w->calls, key, len);
	free(key);
	return v;
}

static int remember_call(struct watch *w, const Pmhc__V1__CallEvent *ev)
{
	const char *beat = ev->location && ev->location->beat ? ev->location->beat : "";
	struct pmhc_keycache_value *v;
	int created;
	size_t len;
	char *key, *copy;

	if (w->opt->psap && strcmp(ev->psap_id, w->opt->psap) != 0)
		return 0;
	key = call_key(ev->psap_id, ev->call_id, &ev->revision, &len);
	copy = strdup(beat);
	v = key && copy ? pmhc_keycache_put(w->calls, key, len, &created) : NULL;
	free(key);
	if (!v) {
		free(copy);
		return -1;
	}
	/* Revision 0 (an unversioned CAD) comes again and again: the newest wins. */
	free(v->text);
	v->text = copy;
	v->a = ev->received_at_ms;
	return 0;
}

/*
 * Decides whether REC is shown and how it is marked, and shows it. The state is
 * updated even for a hidden one, so that a repeat stays a repeat and a newer revision
 * still counts as newer. Returns -1 when memory runs out.
 */
static int present(struct watch *w, const Pmhc__V1__Recommendation *rec)
{
	struct pmhc_watch_block b = { .rec = rec, .mark = PMHC_WATCH_MARK_NONE };
	struct pmhc_keycache_value *newest, *call;
	char *ckey = NULL, *rkey = NULL;
	size_t clen, rlen;
	int created, show, rc = -1;

	ckey = call_key(rec->psap_id, rec->call_id, NULL, &clen);
	rkey = call_key(rec->psap_id, rec->call_id, &rec->revision, &rlen);
	if (!ckey || !rkey)
		goto out;
	if (rec->revision != 0) {
		if (!pmhc_keycache_put(w->seen, rkey, rlen, &created))
			goto out;
		if (!created) { /* a repeat: skip it */
			rc = 0;
			goto out;
		}
	}
	newest = pmhc_keycache_put(w->newest, ckey, clen, &created);
	if (!newest)
		goto out;
	if (!created && rec->revision != 0 && newest->a != 0) {
		if (rec->revision > newest->a) {
			b.mark = PMHC_WATCH_MARK_SUPERSEDES;
			b.mark_revision = (uint32_t)newest->a;
		} else {
			b.mark = PMHC_WATCH_MARK_STALE;
			b.mark_revision = (uint32_t)newest->a;
		}
	}
	show = !w->opt->mh_only || rec->mental_health_call || newest->b;
	if (rec->revision == 0 || rec->revision > newest->a)
		newest->a = rec->revision;
	if (show)
		newest->b = 1;
	rc = 0;
	if (!show)
		goto out;

	call = lookup_call(w, rec);
	if (call) {
		b.beat = call->text ? call->text : "";
		b.received_at_ms = call->a;
	}
	pmhc_watch_render(stdout, &b, output_width(), w->color, w->utf8);
	fflush(stdout);
	w->shown++;
out:
	free(ckey);
	free(rkey);
	return rc;
}

static int count_reached(const struct watch *w)
{
	return w->opt->count > 0 && w->shown >= w->opt->count;
}

/*
 * Shows the held recommendations in the order they arrived: the oldest goes as soon as
 * its call is known or it has waited long enough (FORCE: at once). While cad.calls is
 * still being read up to where it stood at the start, nothing is shown early: the
 * beats of that backlog are on their way.
 */
static int flush_pending(struct watch *w, int64_t now, int force)
{
	while (w->qlen > 0 && !count_reached(w)) {
		struct pending *h = &w->queue[w->qhead];
		int rc;

		if (!force && !lookup_call(w, h->rec) && w->calls) {
			int64_t since = h->arrived_ms > w->primed_ms ? h->arrived_ms : w->primed_ms;

			if (!w->primed || now - since < CALL_WAIT_MS)
				break;
		}
		rc = present(w, h->rec);
		pmhc__v1__recommendation__free_unpacked(h->rec, NULL);
		h->rec = NULL;
		w->qhead = (w->qhead + 1) % PENDING_MAX;
		w->qlen--;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int enqueue(struct watch *w, Pmhc__V1__Recommendation *rec, int64_t now)
{
	/* A full queue (calls far behind) shows its oldest now rather than grow. */
	while (w->qlen == PENDING_MAX) {
		size_t before = w->qlen;

		if (flush_pending(w, now, 1) < 0)
			return -1;
		if (w->qlen == before) /* --count reached: nothing more will be shown */
			break;
	}
	if (w->qlen == PENDING_MAX) {
		pmhc__v1__recommendation__free_unpacked(rec, NULL);
		return 0;
	}
	w->queue[(w->qhead + w->qlen) % PENDING_MAX] = (struct pending){ rec, now };
	w->qlen++;
	return 0;
}

static void check_primed(struct watch *w, int64_t now)
{
	int i;

	if (w->primed)
		return;
	for (i = 0; i < w->nparts; i++)
		if (!w->parts[i].done)
			break;
	if (i < w->nparts) {
		if (now - w->started_ms < PRIME_MAX_MS)
			return;
		fprintf(stderr,
			PROG ": %s is still being read after %d s; showing "
			     "recommendations now, some beats may show as ?\n",
			w->opt->calls_topic, PRIME_MAX_MS / 1000);
	}
	w->primed = 1;
	w->primed_ms = now;
}

static void call_progress(struct watch *w, int32_t partition, int64_t offset, int eof)
{
	int i;

	for (i = 0; i < w->nparts; i++)
		if (w->parts[i].id == partition && (eof || offset >= w->parts[i].target - 1))
			w->parts[i].done = 1;
}

/*
 * Adds the cad.calls partitions to LIST: from the beginning, or from the first message
 * of the last LOOKBACK_MS. Each one's end offset now is what "caught up" means. A
 * partition with no message that recent (offsets_for_times answers -1; so does
 * librdkafka's mock cluster for any time) starts at that end.
 */
static int add_calls(rd_kafka_t *rk, struct watch *w, rd_kafka_topic_partition_list_t *list)
{
	const char *topic = w->opt->calls_topic;
	rd_kafka_topic_partition_list_t *times = NULL;
	rd_kafka_resp_err_t err, terr = RD_KAFKA_RESP_ERR_NO_ERROR;
	int32_t *ids = NULL;
	int64_t *low = NULL;
	int i, n = 0, rc = -1;

	if (pmhc_cli_topic_partitions(PROG, rk, topic, &ids, &n) < 0)
		return -1;
	w->parts = calloc((size_t)n, sizeof(*w->parts));
	low = calloc((size_t)n, sizeof(*low));
	if (!w->parts || !low)
		goto out;
	for (i = 0; i < n; i++) {
		w->parts[i].id = ids[i];
		err = rd_kafka_query_watermark_offsets(rk, topic, ids[i], &low[i], &w->parts[i].target,
						       PMHC_CLI_METADATA_TIMEOUT_MS);
		if (err) {
			fprintf(stderr, PROG ": cannot read the end offset of %s [%" PRId32 "]: %s\n", topic, ids[i],
				rd_kafka_err2str(err));
			goto out;
		}
	}
	if (!w->opt->from_beginning) {
		times = rd_kafka_topic_partition_list_new(n);
		for (i = 0; i < n; i++)
			rd_kafka_topic_partition_list_add(times, topic, ids[i])->offset = pmhc_wall_ms() - LOOKBACK_MS;
		terr = rd_kafka_offsets_for_times(rk, times, PMHC_CLI_METADATA_TIMEOUT_MS);
		if (terr)
			fprintf(stderr,
				PROG ": cannot look up the calls of the last %d minutes "
				     "in %s (%s); reading only new calls\n",
				LOOKBACK_MS / 60000, topic, rd_kafka_err2str(terr));
	}
	for (i = 0; i < n; i++) {
		struct call_part *cp = &w->parts[i];
		/* Looked up, not indexed: the answer need not keep the order asked. */
		const rd_kafka_topic_partition_t *t =
			times ? rd_kafka_topic_partition_list_find(times, topic, ids[i]) : NULL;
		int64_t start;

		if (w->opt->from_beginning) {
			start = RD_KAFKA_OFFSET_BEGINNING;
			cp->done = low[i] >= cp->target;
		} else if (terr || !t || t->err || t->offset < 0 || t->offset >= cp->target) {
			start = cp->target;
			cp->done = 1;
		} else {
			start = t->offset;
			cp->done = 0;
		}
		rd_kafka_topic_partition_list_add(list, topic, ids[i])->offset = start;
	}
	w->nparts = n;
	rc = 0;
out:
	if (times)
		rd_kafka_topic_partition_list_destroy(times);
	free(low);
	free(ids);
	return rc;
}

/*
 * Assigns both topics at once. The recommendations are required; without cad.calls
 * the console still works, with every beat "?".
 */
static int assign_topics(rd_kafka_t *rk, struct watch *w)
{
	const struct options *opt = w->opt;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
	rd_kafka_resp_err_t err;
	int nrecs = 0, rc = -1;
	char calls_note[256] = "no beats";

	if (pmhc_cli_add_partitions(PROG, rk, opt->recs_topic, opt->from_beginning, list, &nrecs) < 0)
		goto out;
	if (*opt->calls_topic) {
		if (add_calls(rk, w, list) == 0) {
			w->calls = pmhc_keycache_new(CACHE_CALLS);
			if (!w->calls) {
				fprintf(stderr, PROG ": out of memory\n");
				goto out;
			}
			snprintf(calls_note, sizeof(calls_note), "beats from %s (%d partition%s) %s", opt->calls_topic,
				 w->nparts, w->nparts == 1 ? "" : "s",
				 opt->from_beginning ? "from the beginning" : "of the last 15 minutes");
		} else {
			free(w->parts);
			w->parts = NULL;
			w->nparts = 0;
			fprintf(stderr, PROG ": showing every beat as ?\n");
		}
	}
	err = rd_kafka_assign(rk, list);
	if (err) {
		fprintf(stderr, PROG ": cannot assign the partitions: %s\n", rd_kafka_err2str(err));
		goto out;
	}
	fprintf(stderr, PROG ": watching %s (%d partition%s) from the %s; %s\n", opt->recs_topic, nrecs,
		nrecs == 1 ? "" : "s", opt->from_beginning ? "beginning" : "end", calls_note);
	rc = 0;
out:
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

/* One message from either topic. Returns -1 when memory runs out. */
static int handle_message(struct watch *w, const rd_kafka_message_t *m, int64_t now, int64_t *last_rec)
{
	static const uint8_t empty[1];
	const uint8_t *payload = m->payload ? (const uint8_t *)m->payload : empty;
	const char *topic = rd_kafka_topic_name(m->rkt);
	int is_calls = w->calls && strcmp(topic, w->opt->calls_topic) == 0;

	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (is_calls)
				call_progress(w, m->partition, m->offset, 1);
		} else {
			fprintf(stderr, PROG ": kafka: %s\n", rd_kafka_message_errstr(m));
		}
		return 0;
	}
	if (is_calls) {
		Pmhc__V1__CallEvent *ev = pmhc__v1__call_event__unpack(NULL, m->len, payload);
		int rc = 0;

		call_progress(w, m->partition, m->offset, 0);
		/* pmhcd sends undecodable calls to its DLQ; here they only lack a beat. */
		if (ev) {
			rc = remember_call(w, ev);
			pmhc__v1__call_event__free_unpacked(ev, NULL);
		}
		return rc;
	}

	*last_rec = now;
	{
		Pmhc__V1__Recommendation *rec = pmhc__v1__recommendation__unpack(NULL, m->len, payload);

		if (!rec) {
			fprintf(stderr,
				PROG ": %s [%" PRId32 "] offset %" PRId64 ": %zu bytes do "
				     "not decode as a pmhc.v1.Recommendation; skipped\n",
				topic, m->partition, m->offset, m->len);
			return 0;
		}
		if (w->opt->psap && strcmp(rec->psap_id, w->opt->psap) != 0) {
			pmhc__v1__recommendation__free_unpacked(rec, NULL);
			return 0;
		}
		return enqueue(w, rec, now);
	}
}

static const char *const conf_defaults[] = {
	/* Small, so that a recommendation shows at once (the mock waits it out; NOTES.md). */
	"fetch.wait.max.ms",
	"5",
	"enable.auto.commit",
	"false",
	"enable.auto.offset.store",
	"false",
	/* Tells when cad.calls has been read up to where it stood at the start. */
	"enable.partition.eof",
	"true",
	NULL,
};

enum {
	OPT_RECS_TOPIC = 256,
	OPT_CALLS_TOPIC,
	OPT_FROM_BEGINNING,
	OPT_PSAP,
	OPT_MH_ONLY,
	OPT_IDLE_MS,
	OPT_COLOR,
};

static const struct option long_options[] = {
	{ "brokers", required_argument, NULL, 'b' },
	{ "recommendations-topic", required_argument, NULL, OPT_RECS_TOPIC },
	{ "calls-topic", required_argument, NULL, OPT_CALLS_TOPIC },
	{ "from-beginning", no_argument, NULL, OPT_FROM_BEGINNING },
	{ "psap", required_argument, NULL, OPT_PSAP },
	{ "mh-only", no_argument, NULL, OPT_MH_ONLY },
	{ "count", required_argument, NULL, 'c' },
	{ "idle-ms", required_argument, NULL, OPT_IDLE_MS },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Options into OPT and CONF; 0 to run, or 1 to exit with *STATUS. */
static int parse_options(int argc, char **argv, struct options *opt, rd_kafka_conf_t *conf, int *status)
{
	int c;

	while ((c = getopt_long(argc, argv, "b:X:c:hV", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_RECS_TOPIC:
			if (!*optarg) {
				*status = pmhc_cli_usage_error(PROG, "--recommendations-topic: the "
								     "topic name cannot be empty");
				return 1;
			}
			opt->recs_topic = optarg;
			break;
		case OPT_CALLS_TOPIC: opt->calls_topic = optarg; break;
		case OPT_FROM_BEGINNING: opt->from_beginning = 1; break;
		case OPT_PSAP: opt->psap = optarg; break;
		case OPT_MH_ONLY: opt->mh_only = 1; break;
		case 'c':
			if (pmhc_cli_parse_long(optarg, 1, &opt->count) < 0) {
				*status = pmhc_cli_usage_error(PROG,
							       "--count %s: expected a number "
							       "of blocks, 1 or more",
							       optarg);
				return 1;
			}
			break;
		case OPT_IDLE_MS:
			if (pmhc_cli_parse_long(optarg, 0, &opt->idle_ms) < 0) {
				*status = pmhc_cli_usage_error(PROG,
							       "--idle-ms %s: expected "
							       "milliseconds, 0 or more",
							       optarg);
				return 1;
			}
			break;
		case OPT_COLOR:
			/* Bare --color means always, as with ls and grep. */
			if (!optarg || strcmp(optarg, "always") == 0) {
				opt->color = COLOR_ALWAYS;
			} else if (strcmp(optarg, "auto") == 0) {
				opt->color = COLOR_AUTO;
			} else if (strcmp(optarg, "never") == 0) {
				opt->color = COLOR_NEVER;
			} else {
				*status = pmhc_cli_usage_error(PROG,
							       "--color=%s: expected auto, "
							       "always or never",
							       optarg);
				return 1;
			}
			break;
		default: /* -b, -X, -h, -V or a bad option */
			if (pmhc_cli_common_option(PROG, c, optarg, conf, &opt->brokers, usage, status))
				return 1;
			break;
		}
	}
	if (optind < argc) {
		*status = pmhc_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
		return 1;
	}
	if (strcmp(opt->calls_topic, opt->recs_topic) == 0) {
		*status = pmhc_cli_usage_error(PROG,
					       "--calls-topic and --recommendations-topic "
					       "are both %s",
					       opt->recs_topic);
		return 1;
	}
	return 0;
}

/* A group.id of this console's own, so that no two consoles could ever meet in one. */
static int set_private_group(rd_kafka_conf_t *conf)
{
	char host[64] = "", id[128];

	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), PROG ".%s.%ld", host, (long)getpid());
	return pmhc_cli_set_property(PROG, conf, "group.id", id);
}

/* Reads and shows until --count, --idle-ms or a signal; the exit status. */
static int run(rd_kafka_t *rk, struct watch *w)
{
	const struct options *opt = w->opt;
	int64_t last_rec = pmhc_mono_ms();
	int idled = 0;

	while (!pmhc_cli_stop_signal && !count_reached(w)) {
		int64_t now = pmhc_mono_ms();
		int timeout = w->qlen > 0 ? 10 : POLL_MS;
		rd_kafka_message_t *m;

		if (opt->idle_ms > 0) {
			int64_t left = opt->idle_ms - (now - last_rec);

			if (left <= 0) {
				idled = 1;
				break;
			}
			if (left < timeout)
				timeout = (int)left;
		}
		m = rd_kafka_consumer_poll(rk, timeout);
		now = pmhc_mono_ms();
		if (m) {
			int rc = handle_message(w, m, now, &last_rec);

			rd_kafka_message_destroy(m);
			if (rc < 0)
				goto oom;
		}
		check_primed(w, now);
		if (flush_pending(w, now, 0) < 0)
			goto oom;
	}
	/* Idle: whatever is still held has waited long enough. */
	if (idled && flush_pending(w, pmhc_mono_ms(), 1) < 0)
		goto oom;
	if (!pmhc_cli_stop_signal && opt->count > 0 && w->shown < opt->count) {
		fprintf(stderr,
			PROG ": %ld of %ld blocks shown before %ld ms without a "
			     "recommendation\n",
			w->shown, opt->count, opt->idle_ms);
		return 1;
	}
	return 0;
oom:
	fprintf(stderr, PROG ": out of memory\n");
	return EX_SOFTWARE;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.recs_topic = "pmhc.recommendations",
		.calls_topic = "cad.calls",
		.count = -1,
		.color = COLOR_AUTO,
	};
	struct watch w = { .opt = &opt };
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	int status = 0;

	setlocale(LC_CTYPE, "");
	tzset();

	conf = pmhc_cli_new_conf(PROG, conf_defaults);
	if (!conf)
		return EX_SOFTWARE;
	if (set_private_group(conf) < 0) {
		status = EX_SOFTWARE;
		goto out;
	}
	if (parse_options(argc, argv, &opt, conf, &status))
		goto out;
	status = pmhc_cli_set_brokers(PROG, conf, opt.brokers, 1);
	if (status != 0)
		goto out;

	w.color = use_color(opt.color);
	w.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	w.newest = pmhc_keycache_new(CACHE_CALLS);
	w.seen = pmhc_keycache_new(CACHE_CALLS);
	w.queue = calloc(PENDING_MAX, sizeof(*w.queue));
	if (!w.newest || !w.seen || !w.queue) {
		fprintf(stderr, PROG ": out of memory\n");
		status = EX_SOFTWARE;
		goto out;
	}

	status = pmhc_cli_start_consumer(PROG, &conf, &rk);
	if (status != 0)
		goto out;

	w.started_ms = pmhc_mono_ms();
	if (assign_topics(rk, &w) < 0) {
		status = pmhc_cli_stop_signal ? 0 : EX_UNAVAILABLE;
		goto out;
	}
	/* Without cad.calls, or with nothing of it to read, nothing is held back. */
	check_primed(&w, w.started_ms);

	status = run(rk, &w);
	rd_kafka_consumer_close(rk);
out:
	pmhc_cli_free_kafka(rk, conf);
	while (w.queue && w.qlen > 0) {
		pmhc__v1__recommendation__free_unpacked(w.queue[w.qhead].rec, NULL);
		w.qhead = (w.qhead + 1) % PENDING_MAX;
		w.qlen--;
	}
	free(w.queue);
	free(w.parts);
	pmhc_keycache_free(w.calls);
	pmhc_keycache_free(w.newest);
	pmhc_keycache_free(w.seen);
	return status;
}
