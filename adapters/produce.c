/*
 * pmhc-produce — publish CAD events written as JSON lines to Kafka as pmhc.v1 protobuf.
 *
 * A user tool (feeding test data, replaying a CAD export, backfilling cad.history):
 * errors go to stderr as "pmhc-produce: FILE:LINE: what is wrong".
 * Each line is parsed, converted and packed before it is queued, so a bad line is never
 * sent and nothing after it is read. Lines before it have been sent (we flush them).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "cli.h"
#include "clock.h"
#include "pbjson.h"
#include "pmhc.pb-c.h"

#define PROG "pmhc-produce"
/*
 * At the end, the wait for the last delivery reports: at least 30 s, and as long as
 * the producer's message.timeout.ms (librdkafka's own word on each message) when
 * that is longer, so -X message.timeout.ms=... rides out a broker outage.
 */
#define FLUSH_TIMEOUT_MIN_MS 30000
#define FLUSH_MARGIN_MS 5000

enum kind { KIND_CALL, KIND_UNIT, KIND_DISPOSITION, KIND_COUNT };

static const struct {
	const char *name; /* the "type" member, the pmhc-type header, --type */
	const ProtobufCMessageDescriptor *desc;
	const char *default_topic;
} kinds[KIND_COUNT] = {
	[KIND_CALL] = { "call", &pmhc__v1__call_event__descriptor, "cad.calls" },
	[KIND_UNIT] = { "unit", &pmhc__v1__unit_status__descriptor, "cad.units" },
	[KIND_DISPOSITION] = { "disposition", &pmhc__v1__disposition__descriptor, "cad.dispositions" },
};

struct options {
	const char *brokers; /* -b; NULL: PMHC_BROKERS */
	const char *topics[KIND_COUNT];
	const char *history; /* NULL: each type to its own topic */
	int default_kind;    /* -1: lines must say their type */
	double rate;         /* messages per second, 0 = unpaced */
	int dry_run;
};

/* Filled by the delivery report callback (runs inside rd_kafka_poll/flush, our thread). */
struct stats {
	unsigned long queued[KIND_COUNT];
	unsigned long delivered[KIND_COUNT];
	unsigned long failed;
	char first_error[512];
};

static void usage(FILE *out)
{
	fputs("Usage: " PROG " [OPTION]... [FILE]...\n"
	      "Publish CAD events written as JSON lines to Kafka as pmhc.v1 protobuf messages.\n"
	      "\n"
	      "Reads each FILE in turn, or standard input when there is none (or for \"-\").\n"
	      "Every line is one JSON object; blank lines and lines starting with '#' are\n"
	      "skipped. The member \"type\" says what the line is; the other members are the\n"
	      "message's fields, named as in proto/pmhc/v1/pmhc.proto:\n"
	      "\n"
	      "  type         message              default topic      key\n"
	      "  call         pmhc.v1.CallEvent    cad.calls          psap_id/call_id\n"
	      "  unit         pmhc.v1.UnitStatus   cad.units          psap_id/unit_id\n"
	      "  disposition  pmhc.v1.Disposition  cad.dispositions   psap_id/call_id\n"
	      "\n"
	      "Enums by name (\"ANSWER_YES\") or number; times are Unix milliseconds, as JSON\n"
	      "integers or strings of digits; nested messages (location, screening) as\n"
	      "objects; repeated fields as arrays. A field left out keeps its proto3 default\n"
	      "(\"\", 0, false, the enum's 0 value such as ANSWER_UNKNOWN). Examples, one per\n"
	      "type (each is a single line in a real file):\n"
	      "\n"
	      "  {\"type\":\"call\",\"call_id\":\"C-1001\",\"psap_id\":\"PSAP1\",\"revision\":1,\n"
	      "   \"received_at_ms\":1767225600000,\"source\":\"SOURCE_911\",\"nature_code\":\"EDP\",\n"
	      "   \"location\":{\"address\":\"100 Main St\",\"lat\":39.7392,\"lon\":-104.9903,\n"
	      "   \"beat\":\"B12\",\"district\":\"D1\"},\"screening\":{\"mental_health_issue\":\n"
	      "   \"ANSWER_YES\",\"weapon_involved\":\"ANSWER_NO\"},\"premise_flags\":[\"MH_HISTORY\"]}\n"
	      "  {\"type\":\"unit\",\"unit_id\":\"CIT-7\",\"psap_id\":\"PSAP1\",\"kind\":\"UNIT_CIT_OFFICER\",\n"
	      "   \"state\":\"UNIT_AVAILABLE\",\"at_ms\":1767225000000,\"beat\":\"B12\",\"lat\":39.74,\n"
	      "   \"lon\":-104.99}\n"
	      "  {\"type\":\"disposition\",\"call_id\":\"C-1001\",\"psap_id\":\"PSAP1\",\n"
	      "   \"closed_at_ms\":1767229200000,\"unit_ids\":[\"CIT-7\"],\"code\":\"DISP_REFERRED\",\n"
	      "   \"connected_to_services\":true,\"service_name\":\"Mobile Crisis\"}\n"
	      "\n"
	      "Options:\n"
	      "  -b, --brokers=LIST       Kafka bootstrap servers, host:port[,...]\n"
	      "                           (default: the PMHC_BROKERS environment variable)\n"
	      "  -X NAME=VALUE            set a librdkafka property; repeatable. Applied after\n"
	      "                           the defaults linger.ms=5 and\n"
	      "                           partitioner=murmur2_random (what pmhcd expects),\n"
	      "                           message.timeout.ms=25000;\n"
	      "                           with --history, linger.ms=100 and\n"
	      "                           batch.num.messages=10000 (a bulk load)\n"
	      "      --type=TYPE          the type of lines with no \"type\" member:\n"
	      "                           call, unit or disposition\n"
	      "      --calls-topic=TOPIC  topic for calls (default cad.calls)\n"
	      "      --units-topic=TOPIC  topic for unit statuses (default cad.units)\n"
	      "      --dispositions-topic=TOPIC\n"
	      "                           topic for dispositions (default cad.dispositions)\n"
	      "      --history=TOPIC      send calls and dispositions to TOPIC instead (the\n"
	      "                           backfill topic, cad.history), each with a header\n"
	      "                           pmhc-type: call or disposition; units are refused\n"
	      "      --rate=N             send at most N messages per second (decimals\n"
	      "                           allowed; default 0 = as fast as possible)\n"
	      "  -n, --dry-run            check every line and send nothing; print the count\n"
	      "                           of valid messages on standard output\n"
	      "  -h, --help               show this help and exit\n"
	      "  -V, --version            show the version and exit\n"
	      "\n"
	      "Each line is checked completely before it is sent. At the first bad line\n" PROG
	      " prints FILE:LINE and the reason, reads no further, waits for the\n"
	      "lines before it to be delivered (they HAVE been sent) and exits 65. Use\n"
	      "--dry-run to check a whole file without sending anything. Identifiers are not\n"
	      "checked: pmhcd rejects events with an empty call_id, psap_id or unit_id, and\n"
	      "tests may want to send such events on purpose.\n"
	      "At the end it waits for every delivery report, up to message.timeout.ms plus\n"
	      "5 s (at least 30 s), and prints on stderr\n"
	      "  " PROG ": N messages delivered (calls=A units=B dispositions=C)\n"
	      "\n"
	      "Exit status:\n"
	      "  0   every message was delivered\n"
	      "  64  usage error (bad option, bad -X property, no brokers)\n"
	      "  65  a bad input line (FILE:LINE and the reason are printed)\n"
	      "  66  an input file could not be opened\n"
	      "  69  a message could not be delivered (the librdkafka error is printed)\n"
	      "  74  an input could not be read\n"
	      "  128+N  stopped by signal N (after delivering what was queued)\n"
	      "\n"
	      "Example:\n"
	      "  PMHC_BROKERS=kafka1:9092 " PROG " --rate 50 calls.jsonl units.jsonl\n",
	      out);
}

static int kind_by_name(const char *name)
{
	int k;

	for (k = 0; k < KIND_COUNT; k++)
		if (strcmp(name, kinds[k].name) == 0)
			return k;
	return -1;
}

static double now_seconds(void)
{
	return (double)pmhc_mono_us() / 1e6;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct stats *st = opaque;
	intptr_t k = (intptr_t)m->_private;

	(void)rk;
	if (m->err) {
		st->failed++;
		if (!st->first_error[0])
			snprintf(st->first_error, sizeof(st->first_error), "topic %s: %s", rd_kafka_topic_name(m->rkt),
				 rd_kafka_err2str(m->err));
	} else if (k >= 0 && k < KIND_COUNT) {
		st->delivered[k]++;
	}
}

/* "psap_id/call_id" or "psap_id/unit_id", malloc'd. */
static char *message_key(int kind, const ProtobufCMessage *m)
{
	const char *psap = "", *id = "";
	char *key;

	switch (kind) {
	case KIND_CALL:
		psap = ((const Pmhc__V1__CallEvent *)m)->psap_id;
		id = ((const Pmhc__V1__CallEvent *)m)->call_id;
		break;
	case KIND_UNIT:
		psap = ((const Pmhc__V1__UnitStatus *)m)->psap_id;
		id = ((const Pmhc__V1__UnitStatus *)m)->unit_id;
		break;
	case KIND_DISPOSITION:
		psap = ((const Pmhc__V1__Disposition *)m)->psap_id;
		id = ((const Pmhc__V1__Disposition *)m)->call_id;
		break;
	}
	if (asprintf(&key, "%s/%s", psap, id) < 0)
		return NULL;
	return key;
}

/* A line ready to send. */
struct encoded {
	int kind;
	uint8_t *payload;
	size_t len;
	char *key;
};

/*
 * Parses and checks one line (already stripped of trailing whitespace) into out.
 * Returns 0, or -1 with the reason in err.
 */
static int encode_line(json_tokener *tok, char *line, size_t len, const struct options *opt, struct encoded *out,
		       char *err, size_t errlen)
{
	json_object *obj, *jt;
	ProtobufCMessage *msg;
	enum json_tokener_error jerr;
	int kind = opt->default_kind;
	int rc = -1;

	json_tokener_reset(tok);
	/* Include the terminating NUL: it tells the tokener the input ends here. */
	obj = json_tokener_parse_ex(tok, line, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		snprintf(err, errlen, "invalid JSON at column %zu: %s%s", json_tokener_get_parse_end(tok) + 1,
			 json_tokener_error_desc(jerr),
			 jerr == json_tokener_error_parse_eof
				 ? " (each message must be a whole JSON object on one line)"
				 : "");
		json_object_put(obj);
		return -1;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "expected a JSON object, got %s", json_type_to_name(json_object_get_type(obj)));
		goto out;
	}
	if (json_object_object_get_ex(obj, "type", &jt)) {
		if (!json_object_is_type(jt, json_type_string) ||
		    (kind = kind_by_name(json_object_get_string(jt))) < 0) {
			snprintf(err, errlen, "\"type\" must be \"call\", \"unit\" or \"disposition\", got %s",
				 json_object_to_json_string_ext(jt, JSON_C_TO_STRING_PLAIN));
			goto out;
		}
		json_object_object_del(obj, "type");
	} else if (kind < 0) {
		snprintf(err, errlen,
			 "no \"type\" member (call, unit or disposition) and no "
			 "--type given");
		goto out;
	}
	if (opt->history && kind == KIND_UNIT) {
		snprintf(err, errlen,
			 "a unit status cannot go to the history topic %s "
			 "(--history carries calls and dispositions only)",
			 opt->history);
		goto out;
	}

	msg = pmhc_json_to_message(kinds[kind].desc, obj, err, errlen);
	if (!msg)
		goto out;
	out->kind = kind;
	out->len = protobuf_c_message_get_packed_size(msg);
	out->payload = malloc(out->len ? out->len : 1);
	out->key = message_key(kind, msg);
	if (!out->payload || !out->key) {
		free(out->payload);
		free(out->key);
		snprintf(err, errlen, "out of memory");
	} else {
		protobuf_c_message_pack(msg, out->payload);
		rc = 0;
	}
	protobuf_c_message_free_unpacked(msg, NULL);
out:
	json_object_put(obj);
	return rc;
}

/* Waits (serving delivery reports) until message number n is due at the given rate. */
static void pace(rd_kafka_t *rk, double start, double rate, unsigned long n)
{
	double due = start + (double)n / rate;

	while (!pmhc_cli_stop_signal) {
		double wait = due - now_seconds();

		if (wait <= 0)
			break;
		if (wait >= 0.001) {
			rd_kafka_poll(rk, (int)(wait * 1000));
		} else {
			struct timespec ts = { 0, (long)(wait * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
}

/* Queues one message; the payload is handed to librdkafka (or freed on failure). */
static rd_kafka_resp_err_t send_one(rd_kafka_t *rk, const struct options *opt, struct encoded *e)
{
	const char *topic = opt->history ? opt->history : opt->topics[e->kind];
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_resp_err_t err;

	for (;;) {
		if (opt->history) {
			hdrs = rd_kafka_headers_new(1);
			rd_kafka_header_add(hdrs, "pmhc-type", -1, kinds[e->kind].name, -1);
		}
		err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(e->key, strlen(e->key)),
					RD_KAFKA_V_VALUE(e->payload, e->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
					RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(intptr_t)e->kind),
					RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			return err; /* librdkafka owns payload and headers now */
		if (hdrs)
			rd_kafka_headers_destroy(hdrs);
		hdrs = NULL;
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || pmhc_cli_stop_signal) {
			free(e->payload);
			return err;
		}
		/* The local queue is full: let deliveries drain it, then try again. */
		rd_kafka_poll(rk, 100);
	}
}

static void strip_trailing_space(char *line, size_t *len)
{
	while (*len > 0 && strchr(" \t\r\n\f\v", line[*len - 1]))
		line[--*len] = '\0';
}

/*
 * Reads one input, sending each line. Returns 0 at the end of the input, EX_DATAERR
 * after a bad line, EX_UNAVAILABLE if a message could not be queued, -1 on a signal.
 */
static int produce_stream(FILE *fp, const char *name, rd_kafka_t *rk, const struct options *opt, json_tokener *tok,
			  struct stats *st, double start)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t got;
	int rc = 0;

	while (!pmhc_cli_stop_signal && (got = getline(&line, &cap, fp)) >= 0) {
		size_t len = (size_t)got, skip;
		char err[1024];
		struct encoded e;
		rd_kafka_resp_err_t kerr;

		lineno++;
		if (strlen(line) != len) {
			fprintf(stderr, PROG ": %s:%lu: the line contains a NUL byte\n", name, lineno);
			rc = EX_DATAERR;
			break;
		}
		strip_trailing_space(line, &len);
		skip = strspn(line, " \t");
		if (line[skip] == '\0' || line[skip] == '#')
			continue;
		if (encode_line(tok, line, len, opt, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s:%lu: %s\n", name, lineno, err);
			rc = EX_DATAERR;
			break;
		}
		if (opt->dry_run) {
			st->queued[e.kind]++;
			free(e.payload);
			free(e.key);
			continue;
		}
		if (opt->rate > 0) {
			unsigned long sent =
				st->queued[KIND_CALL] + st->queued[KIND_UNIT] + st->queued[KIND_DISPOSITION];

			pace(rk, start, opt->rate, sent);
		}
		kerr = send_one(rk, opt, &e);
		free(e.key);
		if (kerr == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
			fprintf(stderr,
				PROG ": %s:%lu: the message (%zu bytes) is larger than the "
				     "producer allows (message.max.bytes): %s\n",
				name, lineno, e.len, rd_kafka_err2str(kerr));
			rc = EX_DATAERR;
			break;
		}
		if (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL && pmhc_cli_stop_signal)
			break;
		if (kerr) {
			fprintf(stderr, PROG ": %s:%lu: could not queue the message: %s\n", name, lineno,
				rd_kafka_err2str(kerr));
			rc = EX_UNAVAILABLE;
			break;
		}
		st->queued[e.kind]++;
		rd_kafka_poll(rk, 0);
	}
	if (rc == 0 && ferror(fp) && !pmhc_cli_stop_signal) {
		fprintf(stderr, PROG ": %s: read error: %s\n", name, strerror(errno));
		rc = EX_IOERR;
	}
	if (rc == 0 && pmhc_cli_stop_signal)
		rc = -1;
	free(line);
	return rc;
}

/* The defaults --help names; -X comes after them, so it can override them. */
static const char *const conf_defaults[] = {
	"linger.ms",
	"5",
	"partitioner",
	"murmur2_random",
	/* A person at a terminal learns of a dead broker in 30 s, not librdkafka's 5 min. */
	"message.timeout.ms",
	"25000",
	NULL,
};

/*
 * History is a bulk load that nobody waits on: larger batches mean fewer
 * requests for the broker, and fewer message sets for a consumer to walk
 * (librdkafka's mock cluster returns one per partition per fetch and finds
 * each by walking the partition's list: small sets made it spend more CPU
 * than PostgreSQL during a backfill). -X still wins.
 */
static const char *const history_defaults[][3] = {
	/* name, its alias or NULL, value */
	{ "linger.ms", "queue.buffering.max.ms", "100" },
	{ "batch.num.messages", NULL, "10000" },
};

#define N_HISTORY_DEFAULTS (sizeof(history_defaults) / sizeof(history_defaults[0]))

/* Notes which history defaults -X ARG sets, so that they are left alone. */
static void note_x(const char *arg, int given[N_HISTORY_DEFAULTS])
{
	for (size_t i = 0; i < N_HISTORY_DEFAULTS; i++) {
		for (int k = 0; k < 2 && history_defaults[i][k]; k++) {
			size_t n = strlen(history_defaults[i][k]);
			if (strncmp(arg, history_defaults[i][k], n) == 0 && arg[n] == '=')
				given[i] = 1;
		}
	}
}

enum {
	OPT_TYPE = 256,
	OPT_CALLS_TOPIC,
	OPT_UNITS_TOPIC,
	OPT_DISPOSITIONS_TOPIC,
	OPT_HISTORY,
	OPT_RATE,
};

static const struct option long_options[] = {
	{ "brokers", required_argument, NULL, 'b' },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "calls-topic", required_argument, NULL, OPT_CALLS_TOPIC },
	{ "units-topic", required_argument, NULL, OPT_UNITS_TOPIC },
	{ "dispositions-topic", required_argument, NULL, OPT_DISPOSITIONS_TOPIC },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

static void print_summary(const struct stats *st, int dry_run)
{
	if (dry_run) {
		unsigned long n = st->queued[KIND_CALL] + st->queued[KIND_UNIT] + st->queued[KIND_DISPOSITION];

		printf("%lu messages valid (calls=%lu units=%lu dispositions=%lu)\n", n, st->queued[KIND_CALL],
		       st->queued[KIND_UNIT], st->queued[KIND_DISPOSITION]);
		return;
	}
	fprintf(stderr, PROG ": %lu messages delivered (calls=%lu units=%lu dispositions=%lu)\n",
		st->delivered[KIND_CALL] + st->delivered[KIND_UNIT] + st->delivered[KIND_DISPOSITION],
		st->delivered[KIND_CALL], st->delivered[KIND_UNIT], st->delivered[KIND_DISPOSITION]);
}

static int flush_timeout_ms(rd_kafka_t *rk)
{
	char v[32];
	size_t len = sizeof v;
	long t = 0;
	if (rd_kafka_conf_get(rd_kafka_conf(rk), "message.timeout.ms", v, &len) == RD_KAFKA_CONF_OK)
		t = strtol(v, NULL, 10);
	return t + FLUSH_MARGIN_MS > FLUSH_TIMEOUT_MIN_MS ? (int)(t + FLUSH_MARGIN_MS) : FLUSH_TIMEOUT_MIN_MS;
}

/* Waits for every delivery report; returns 0 if all were delivered. */
static int flush_all(rd_kafka_t *rk, struct stats *st)
{
	int wait_ms = flush_timeout_ms(rk);
	unsigned long queued = st->queued[KIND_CALL] + st->queued[KIND_UNIT] + st->queued[KIND_DISPOSITION];
	unsigned long delivered = st->delivered[KIND_CALL] + st->delivered[KIND_UNIT] + st->delivered[KIND_DISPOSITION];
	int left;

	if (rd_kafka_flush(rk, wait_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		left = rd_kafka_outq_len(rk);
		if (!st->first_error[0])
			snprintf(st->first_error, sizeof(st->first_error),
				 "%d messages still not delivered after %d s: %s", left, wait_ms / 1000,
				 rd_kafka_err2str(RD_KAFKA_RESP_ERR__TIMED_OUT));
		/* Fail what is left, so the reports below account for every message. */
		rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(rk, 5000);
	}
	delivered = st->delivered[KIND_CALL] + st->delivered[KIND_UNIT] + st->delivered[KIND_DISPOSITION];
	if (delivered == queued && st->failed == 0)
		return 0;
	fprintf(stderr, PROG ": %lu of %lu messages NOT delivered; first error: %s\n", queued - delivered, queued,
		st->first_error[0] ? st->first_error : "unknown");
	return -1;
}

int main(int argc, char **argv)
{
	struct options opt = { .default_kind = -1 };
	struct stats st;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	json_tokener *tok = NULL;
	char errstr[512];
	double start;
	int c, i, k, rc = 0, status = 0;
	int x_given[N_HISTORY_DEFAULTS] = { 0 };

	memset(&st, 0, sizeof(st));
	for (k = 0; k < KIND_COUNT; k++)
		opt.topics[k] = kinds[k].default_topic;
	conf = pmhc_cli_new_conf(PROG, conf_defaults);
	if (!conf)
		return EX_SOFTWARE;

	while ((c = getopt_long(argc, argv, "b:X:nhV", long_options, NULL)) != -1) {
		if (c == 'X')
			note_x(optarg, x_given);
		switch (c) {
		case OPT_TYPE:
			if ((opt.default_kind = kind_by_name(optarg)) < 0) {
				status = pmhc_cli_usage_error(PROG,
							      "--type %s: expected call, "
							      "unit or disposition",
							      optarg);
				goto out;
			}
			break;
		case OPT_CALLS_TOPIC: opt.topics[KIND_CALL] = optarg; break;
		case OPT_UNITS_TOPIC: opt.topics[KIND_UNIT] = optarg; break;
		case OPT_DISPOSITIONS_TOPIC: opt.topics[KIND_DISPOSITION] = optarg; break;
		case OPT_HISTORY: opt.history = optarg; break;
		case OPT_RATE:
			if (parse_rate(optarg, &opt.rate) < 0) {
				status = pmhc_cli_usage_error(PROG,
							      "--rate %s: expected a "
							      "number of messages per second, "
							      "0 or more",
							      optarg);
				goto out;
			}
			break;
		case 'n': opt.dry_run = 1; break;
		default: /* -b, -X, -h, -V or a bad option */
			if (pmhc_cli_common_option(PROG, c, optarg, conf, &opt.brokers, usage, &status))
				goto out;
			break;
		}
	}
	for (k = 0; k < KIND_COUNT; k++)
		if (!*opt.topics[k] || (opt.history && !*opt.history)) {
			status = pmhc_cli_usage_error(PROG, "a topic name cannot be empty");
			goto out;
		}
	for (size_t d = 0; opt.history && d < N_HISTORY_DEFAULTS; d++) {
		if (!x_given[d] &&
		    pmhc_cli_set_property(PROG, conf, history_defaults[d][0], history_defaults[d][2]) != 0) {
			status = EX_SOFTWARE;
			goto out;
		}
	}
	/* A dry run sends nothing, so it may go without brokers. */
	status = pmhc_cli_set_brokers(PROG, conf, opt.brokers, !opt.dry_run);
	if (status != 0)
		goto out;

	tok = json_tokener_new();
	if (!tok) {
		status = EX_OSERR;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

	if (!opt.dry_run) {
		rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
		rd_kafka_conf_set_opaque(conf, &st);
		rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		if (!rk) {
			fprintf(stderr, PROG ": cannot create the Kafka producer: %s\n", errstr);
			status = EX_USAGE;
			goto out;
		}
		conf = NULL; /* rd_kafka_new() took ownership */
	}

	/* Stop reading on the first SIGINT/SIGTERM, deliver what is queued; a second one kills. */
	pmhc_cli_catch_stop_signals();

	start = now_seconds();
	for (i = optind; i == optind || i < argc; i++) {
		const char *name = i < argc ? argv[i] : "-";
		FILE *fp = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");

		if (!fp) {
			fprintf(stderr, PROG ": %s: cannot open: %s\n", name, strerror(errno));
			rc = EX_NOINPUT;
			break;
		}
		rc = produce_stream(fp, fp == stdin ? "<stdin>" : name, rk, &opt, tok, &st, start);
		if (fp != stdin)
			fclose(fp);
		if (rc != 0)
			break;
	}

	if (rk && flush_all(rk, &st) < 0 && rc == 0)
		rc = EX_UNAVAILABLE;
	print_summary(&st, opt.dry_run);
	if (rc == -1) {
		fprintf(stderr, PROG ": stopped by signal %d before the end of the input\n", (int)pmhc_cli_stop_signal);
		rc = 128 + (int)pmhc_cli_stop_signal;
	}
	status = rc;
out:
	pmhc_cli_free_kafka(rk, conf);
	if (tok)
		json_tokener_free(tok);
	return status;
}
