/*
 * pmhc-consume — print the pmhc.v1 messages of a Kafka topic as JSON lines.
 *
 * Reads without joining a consumer group: it looks up the topic's partitions, assigns
 * all of them with explicit start offsets and never commits, so it can watch any topic
 * (pmhc.recommendations, cad.calls, ...) beside pmhcd without disturbing anything.
 * librdkafka 2.0 accepts rd_kafka_assign() only on a handle that has a group.id; we set
 * one, but the group is never joined (no subscribe) and no offset is ever committed.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "cli.h"
#include "clock.h"
#include "consume_redact.h"
#include "pbjson.h"
#include "pmhc.pb-c.h"

#define PROG "pmhc-consume"
#define POLL_MS 100

static const struct {
	const char *name;
	const ProtobufCMessageDescriptor *desc;
} types[] = {
	{ "recommendation", &pmhc__v1__recommendation__descriptor },
	{ "call", &pmhc__v1__call_event__descriptor },
	{ "unit", &pmhc__v1__unit_status__descriptor },
	{ "disposition", &pmhc__v1__disposition__descriptor },
};

struct options {
	const char *brokers; /* -b; NULL: PMHC_BROKERS */
	const char *topic;
	const ProtobufCMessageDescriptor *desc;
	int from_beginning;
	long count;   /* -1: no limit */
	long idle_ms; /* 0: wait forever */
	int meta;
	int redact;
};

static void usage(FILE *out)
{
	fputs("Usage: " PROG " [OPTION]...\n"
	      "Print the pmhc.v1 protobuf messages of a Kafka topic, one JSON object per line.\n"
	      "\n"
	      "Reads every partition of the topic without joining a consumer group and without\n"
	      "committing offsets, so it never disturbs pmhcd or any other reader. Fields are\n"
	      "named as in proto/pmhc/v1/pmhc.proto; enums are printed by name, times as\n"
	      "integers; fields holding their default (\"\", 0, false, the enum's 0 value) are\n"
	      "left out, except call_id, psap_id, unit_id and revision. Example line:\n"
	      "  {\"call_id\":\"C-1001\",\"psap_id\":\"PSAP1\",\"revision\":1,\"decided_at_ms\":\n"
	      "   1767225600012,\"mental_health_call\":true,\"flags\":[\"MH\",\"PREMISE_MH\"],\n"
	      "   \"rule_id\":\"mh-default\",\"response\":\"RESPONSE_CO_RESPONDER\",...}\n"
	      "A message that does not decode is printed as\n"
	      "  {\"_error\":\"...\",\"_partition\":0,\"_offset\":42}\n"
	      "and reading goes on. Output is line-buffered: each line appears as it arrives.\n"
	      "\n"
	      "Options:\n"
	      "  -b, --brokers=LIST    Kafka bootstrap servers, host:port[,...]\n"
	      "                        (default: the PMHC_BROKERS environment variable)\n"
	      "  -X NAME=VALUE         set a librdkafka property; repeatable. Applied after\n"
	      "                        the default fetch.wait.max.ms=5\n"
	      "  -t, --topic=TOPIC     the topic to read (default pmhc.recommendations)\n"
	      "      --type=TYPE       how to decode: recommendation (default), call, unit\n"
	      "                        or disposition\n"
	      "      --from-beginning  start at the oldest message of each partition\n"
	      "                        (default: only messages that arrive after the start)\n"
	      "  -c, --count=N         exit after N messages (undecodable ones included)\n"
	      "      --idle-ms=N       exit after N ms without a new message\n"
	      "                        (default 0 = never)\n"
	      "      --meta            add \"_partition\", \"_offset\", \"_timestamp_ms\", \"_key\"\n"
	      "                        and \"_headers\" (an object name: value) to each line\n"
	      "      --redact          print what identifies a person or a place as\n"
	      "                        \"" PMHC_REDACTED "\": subject_key, call_taker_id, narrative,\n"
	      "                        nature_text, location address, premise_id, lat and\n"
	      "                        lon, a recommendation's \"narrative: ...\" reason,\n"
	      "                        and those values wherever a header quotes them. For\n"
	      "                        looking into pmhc.dlq, which keeps rejected input\n"
	      "                        byte for byte: raw subject keys and narratives\n"
	      "  -h, --help            show this help and exit\n"
	      "  -V, --version         show the version and exit\n"
	      "\n"
	      "When its partitions are assigned it prints on stderr\n"
	      "  " PROG ": reading TOPIC (N partitions) from the end|beginning as TYPE\n"
	      "after which no message produced to the topic is missed. SIGINT or SIGTERM\n"
	      "stops it cleanly.\n"
	      "\n"
	      "Exit status:\n"
	      "  0   stopped normally: N messages printed, idle time out, or a signal\n"
	      "  1   --count N was given and fewer than N messages were printed\n"
	      "  64  usage error\n"
	      "  69  the brokers or the topic could not be reached\n"
	      "\n"
	      "Examples:\n"
	      "  " PROG " -b localhost:9092                   # watch recommendations\n"
	      "  " PROG " --type call -t cad.calls --from-beginning -c 10 --meta\n",
	      out);
}

/*
 * Assigns every partition of the topic: from the beginning, or from the current end.
 * Returns 0, or -1 with the reason printed.
 */
static int assign_topic(rd_kafka_t *rk, const struct options *opt, int *partitions)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t err;
	int rc = -1;

	if (pmhc_cli_add_partitions(PROG, rk, opt->topic, opt->from_beginning, list, partitions) < 0)
		goto out;
	err = rd_kafka_assign(rk, list);
	if (err) {
		fprintf(stderr, PROG ": cannot assign the partitions of %s: %s\n", opt->topic, rd_kafka_err2str(err));
		goto out;
	}
	rc = 0;
out:
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

/* Adds the _partition, _offset and (with --meta) the other members of a message; seen: what --redact hid. */
static void add_meta(json_object *o, const rd_kafka_message_t *m, int meta, const struct pmhc_redacted *seen)
{
	rd_kafka_timestamp_type_t tstype;
	rd_kafka_headers_t *hdrs;
	int64_t ts;

	json_object_object_add(o, "_partition", json_object_new_int(m->partition));
	json_object_object_add(o, "_offset", json_object_new_int64(m->offset));
	if (!meta)
		return;
	ts = rd_kafka_message_timestamp(m, &tstype);
	json_object_object_add(o, "_timestamp_ms",
			       tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? NULL : json_object_new_int64(ts));
	json_object_object_add(o, "_key", m->key ? json_object_new_string_len(m->key, (int)m->key_len) : NULL);
	{
		json_object *jh = json_object_new_object();
		const char *name;
		const void *value;
		size_t size, idx;

		if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			for (idx = 0;
			     rd_kafka_header_get_all(hdrs, idx, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
			     idx++) {
				char *text = value && seen ? pmhc_redact_text(value, size, seen) : NULL;
				json_object_object_add(jh, name,
						       text    ? json_object_new_string(text)
						       : value ? json_object_new_string_len(value, (int)size)
							       : NULL);
				free(text);
			}
		}
		json_object_object_add(o, "_headers", jh);
	}
}

/* Prints one message as a JSON line: decoded, or an _error line. */
static void print_message(const rd_kafka_message_t *m, const struct options *opt)
{
	static const uint8_t empty[1];
	ProtobufCMessage *msg;
	json_object *o = NULL;
	int decoded;

	msg = protobuf_c_message_unpack(opt->desc, NULL, m->len, m->payload ? (const uint8_t *)m->payload : empty);
	decoded = msg != NULL;
	struct pmhc_redacted seen = { 0 };
	if (msg) {
		o = pmhc_message_to_json(msg);
		protobuf_c_message_free_unpacked(msg, NULL);
		if (o && opt->redact)
			pmhc_redact_json(o, &seen);
		if (o && opt->meta)
			add_meta(o, m, 1, opt->redact ? &seen : NULL);
	}
	if (!o) {
		char what[256];

		if (decoded)
			snprintf(what, sizeof(what), "out of memory while printing a %s", opt->desc->name);
		else
			snprintf(what, sizeof(what), "%zu bytes do not decode as %s", m->len, opt->desc->name);
		o = json_object_new_object();
		if (!o) {
			pmhc_redacted_clear(&seen);
			return;
		}
		json_object_object_add(o, "_error", json_object_new_string(what));
		add_meta(o, m, opt->meta, opt->redact ? &seen : NULL);
	}
	pmhc_redacted_clear(&seen);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	putchar('\n');
	json_object_put(o);
}

static const char *const conf_defaults[] = {
	/*
	 * fetch.wait.max.ms: how long a broker may hold an empty fetch. Small, so that a
	 * message shows up at once (the mock cluster waits the full time; NOTES.md).
	 */
	"fetch.wait.max.ms",        "5",     "group.id", PROG, "enable.auto.commit", "false",
	"enable.auto.offset.store", "false", NULL,
};

enum {
	OPT_TYPE = 256,
	OPT_FROM_BEGINNING,
	OPT_IDLE_MS,
	OPT_META,
	OPT_REDACT,
};

static const struct option long_options[] = {
	{ "brokers", required_argument, NULL, 'b' },
	{ "topic", required_argument, NULL, 't' },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "from-beginning", no_argument, NULL, OPT_FROM_BEGINNING },
	{ "count", required_argument, NULL, 'c' },
	{ "idle-ms", required_argument, NULL, OPT_IDLE_MS },
	{ "meta", no_argument, NULL, OPT_META },
	{ "redact", no_argument, NULL, OPT_REDACT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct options opt = {
		.topic = "pmhc.recommendations",
		.desc = &pmhc__v1__recommendation__descriptor,
		.count = -1,
	};
	const char *type_name = "recommendation";
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	size_t i;
	long printed = 0;
	int64_t last;
	int c, partitions = 0, status = 0;

	conf = pmhc_cli_new_conf(PROG, conf_defaults);
	if (!conf)
		return EX_SOFTWARE;

	while ((c = getopt_long(argc, argv, "b:X:t:c:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 't': opt.topic = optarg; break;
		case OPT_TYPE:
			opt.desc = NULL;
			for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
				if (strcmp(optarg, types[i].name) == 0) {
					opt.desc = types[i].desc;
					type_name = types[i].name;
				}
			if (!opt.desc) {
				status = pmhc_cli_usage_error(PROG,
							      "--type %s: expected "
							      "recommendation, call, unit or "
							      "disposition",
							      optarg);
				goto out;
			}
			break;
		case OPT_FROM_BEGINNING: opt.from_beginning = 1; break;
		case 'c':
			if (pmhc_cli_parse_long(optarg, 1, &opt.count) < 0) {
				status = pmhc_cli_usage_error(PROG,
							      "--count %s: expected a "
							      "number of messages, 1 or more",
							      optarg);
				goto out;
			}
			break;
		case OPT_IDLE_MS:
			if (pmhc_cli_parse_long(optarg, 0, &opt.idle_ms) < 0) {
				status = pmhc_cli_usage_error(PROG,
							      "--idle-ms %s: expected "
							      "milliseconds, 0 or more",
							      optarg);
				goto out;
			}
			break;
		case OPT_META: opt.meta = 1; break;
		case OPT_REDACT: opt.redact = 1; break;
		default: /* -b, -X, -h, -V or a bad option */
			if (pmhc_cli_common_option(PROG, c, optarg, conf, &opt.brokers, usage, &status))
				goto out;
			break;
		}
	}
	if (optind < argc) {
		status = pmhc_cli_usage_error(PROG,
					      "unexpected argument '%s' (the topic goes "
					      "after -t)",
					      argv[optind]);
		goto out;
	}
	if (!*opt.topic) {
		status = pmhc_cli_usage_error(PROG, "the topic name cannot be empty");
		goto out;
	}
	status = pmhc_cli_set_brokers(PROG, conf, opt.brokers, 1);
	if (status != 0)
		goto out;

	status = pmhc_cli_start_consumer(PROG, &conf, &rk);
	if (status != 0)
		goto out;

	if (assign_topic(rk, &opt, &partitions) < 0) {
		status = EX_UNAVAILABLE;
		goto out;
	}
	fprintf(stderr, PROG ": reading %s (%d partition%s) from the %s as %s\n", opt.topic, partitions,
		partitions == 1 ? "" : "s", opt.from_beginning ? "beginning" : "end", type_name);
	setvbuf(stdout, NULL, _IOLBF, 0);

	last = pmhc_mono_ms();
	while (!pmhc_cli_stop_signal && (opt.count < 0 || printed < opt.count)) {
		int timeout = POLL_MS;
		rd_kafka_message_t *m;

		if (opt.idle_ms > 0) {
			int64_t left = opt.idle_ms - (pmhc_mono_ms() - last);

			if (left <= 0)
				break;
			if (left < timeout)
				timeout = (int)left;
		}
		m = rd_kafka_consumer_poll(rk, timeout);
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, PROG ": kafka: %s\n", rd_kafka_message_errstr(m));
		} else {
			print_message(m, &opt);
			printed++;
			last = pmhc_mono_ms();
		}
		rd_kafka_message_destroy(m);
	}
	fflush(stdout);
	if (opt.count > 0 && printed < opt.count) {
		fprintf(stderr, PROG ": %ld of %ld messages arrived\n", printed, opt.count);
		status = 1;
	}
	rd_kafka_consumer_close(rk);
out:
	pmhc_cli_free_kafka(rk, conf);
	return status;
}
