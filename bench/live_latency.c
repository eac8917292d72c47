/*
 * live_latency: the time from a call event being produced to its
 * recommendation being consumed, through the real Kafka protocol and a running
 * pmhcd, at a steady rate. Prints p50/p99/max after a warm-up; asserts nothing.
 *
 *   live_latency -b BROKERS [--rate N] [--seconds S] [--warmup S] [--one-hop]
 *   live_latency -b BROKERS --relay | --relay-group
 *
 * --one-hop reads the calls back from cad.calls instead of waiting for pmhcd:
 * the floor that Kafka (or the mock) alone sets on this machine.
 * --relay is a stand-in for pmhcd that decides nothing: it answers each call
 * on cad.calls with a bare recommendation (ids only), with pmhcd's client
 * settings, until SIGTERM. Measured in its place, it gives the floor of the two hops a live
 * decision crosses. --relay-group reads the calls as pmhcd does, a member of
 * a consumer group subscribed to cad.calls and cad.dispositions; --relay is
 * assigned cad.calls' partitions, outside any group.
 *
 * Beside the end-to-end figures it prints the first part, produce to the
 * recommendation being produced, from the recommendation's Kafka timestamp:
 * that clock has millisecond steps, so the figure is shifted by half of one.
 *
 * Against librdkafka's mock cluster both consumers (this one and pmhcd's) need
 * a small fetch.wait.max.ms: the mock answers an empty fetch only after it.
 *
 * For experiments, PMHC_LATENCY_CONSUMER_CONF and PMHC_LATENCY_PRODUCER_CONF
 * add librdkafka properties ("name=value name=value") to its clients.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "pmhc.pb-c.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *kv[][2] = {
		{ "bootstrap.servers", brokers },
		{ type == RD_KAFKA_PRODUCER ? "linger.ms" : "fetch.wait.max.ms",
		  type == RD_KAFKA_PRODUCER ? "0" : "1" },
		{ type == RD_KAFKA_PRODUCER ? "partitioner" : "group.id",
		  type == RD_KAFKA_PRODUCER ? "murmur2_random" : "pmhc-live-latency" },
		{ type == RD_KAFKA_PRODUCER ? "enable.idempotence" : "enable.auto.commit",
		  type == RD_KAFKA_PRODUCER ? "true" : "false" }, /* as pmhcd's producer */
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "live_latency: %s\n", err);
			exit(70);
		}
	/* A relay in a group reads fresh topics from their start (the assigned consumers start at the end). */
	if (type == RD_KAFKA_CONSUMER &&
	    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "live_latency: %s\n", err);
		exit(70);
	}
	/* Experiments: more properties, "name=value name=value" (none by default). */
	const char *extra =
		getenv(type == RD_KAFKA_CONSUMER ? "PMHC_LATENCY_CONSUMER_CONF" : "PMHC_LATENCY_PRODUCER_CONF");
	char kv_buf[512];
	snprintf(kv_buf, sizeof kv_buf, "%s", extra ? extra : "");
	for (char *save = NULL, *p = strtok_r(kv_buf, " ", &save); p != NULL; p = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(p, '=');
		if (eq == NULL ||
		    (*eq = '\0', rd_kafka_conf_set(conf, p, eq + 1, err, sizeof err)) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "live_latency: PMHC_LATENCY_%s_CONF: %s\n",
				type == RD_KAFKA_CONSUMER ? "CONSUMER" : "PRODUCER", eq ? err : p);
			exit(64);
		}
	}
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
	if (rk == NULL) {
		fprintf(stderr, "live_latency: %s\n", err);
		exit(70);
	}
	return rk;
}

/* Assigns every partition of topic at its current end: only what comes next is read. */
static void assign_end(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
		fprintf(stderr, "live_latency: no metadata for %s\n", topic);
		exit(69);
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
	for (int i = 0; i < md->topics[0].partition_cnt; i++)
		rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
			RD_KAFKA_OFFSET_END;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
}

/*
 * As pmhcd consumes: a member of a consumer group subscribed to the calls and
 * the dispositions, from the start of each (the topics are fresh).
 */
static void subscribe_as_pmhcd(rd_kafka_t *rk)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
	rd_kafka_topic_partition_list_add(l, "cad.calls", RD_KAFKA_PARTITION_UA);
	rd_kafka_topic_partition_list_add(l, "cad.dispositions", RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "live_latency: subscribe: %s\n", rd_kafka_err2str(err));
		exit(69);
	}
}

/*
 * pmhcd's place without its work: each call answered with a bare recommendation
 * as it comes. in_group: read the calls as pmhcd does (subscribe_as_pmhcd),
 * else assigned every partition of cad.calls.
 */
static int relay(const char *brokers, bool in_group)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rd_kafka_t *prod = client(RD_KAFKA_PRODUCER, brokers), *cons = client(RD_KAFKA_CONSUMER, brokers);
	if (in_group)
		subscribe_as_pmhcd(cons);
	else
		assign_end(cons, "cad.calls");
	uint8_t buf[512];
	while (!stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 10);
		Pmhc__V1__CallEvent *c =
			m != NULL && !m->err ? pmhc__v1__call_event__unpack(NULL, m->len, m->payload) : NULL;
		if (c != NULL) {
			Pmhc__V1__Recommendation rec = PMHC__V1__RECOMMENDATION__INIT;
			rec.call_id = c->call_id;
			rec.psap_id = c->psap_id;
			rec.revision = c->revision;
			size_t len = pmhc__v1__recommendation__get_packed_size(&rec) <= sizeof buf
					     ? pmhc__v1__recommendation__pack(&rec, buf)
					     : 0;
			while (len > 0 &&
			       rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("pmhc.recommendations"),
						 RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(buf, len),
						 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
				rd_kafka_poll(prod, 10);
			pmhc__v1__call_event__free_unpacked(c, NULL);
		}
		if (m != NULL)
			rd_kafka_message_destroy(m);
		rd_kafka_poll(prod, 0);
	}
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	rd_kafka_flush(prod, 5000);
	rd_kafka_destroy(prod);
	return 0;
}

static void print_percentiles(const char *what, int64_t *v, size_t n, double unit)
{
	qsort(v, n, sizeof *v, cmp64);
	printf("  %s: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, (double)v[n / 2] / unit,
	       (double)v[(size_t)((double)n * 0.99)] / unit, (double)v[n - 1] / unit);
}

int main(int argc, char **argv)
{
	const char *brokers = getenv("PMHC_BROKERS");
	double rate = 1000, seconds = 10, warmup = 2;
	int one_hop = 0, relay_only = 0;
	static const struct option opts[] = {
		{ "brokers", required_argument, NULL, 'b' }, { "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' }, { "warmup", required_argument, NULL, 'w' },
		{ "one-hop", no_argument, NULL, '1' },       { "relay", no_argument, NULL, 'R' },
		{ "relay-group", no_argument, NULL, 'G' },   { NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		switch (o) {
		case 'b': brokers = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case '1': one_hop = 1; break;
		case 'R': relay_only = 1; break;
		case 'G': relay_only = 2; break;
		default:
			fprintf(stderr,
				"usage: live_latency -b BROKERS [--rate N] [--seconds S] [--warmup S] [--one-hop]\n"
				"       live_latency -b BROKERS --relay | --relay-group\n");
			return 64;
		}
	}
	if (brokers == NULL || rate <= 0 || seconds <= 0) {
		fprintf(stderr, "live_latency: -b BROKERS (or PMHC_BROKERS) and positive --rate/--seconds needed\n");
		return 64;
	}
	if (relay_only)
		return relay(brokers, relay_only == 2);
	size_t total = (size_t)((warmup + seconds) * rate), warm = (size_t)(warmup * rate);
	/* Per call: sent (monotonic ns), sent (wall us), end to end (ns), to the recommendation's timestamp (us). */
	int64_t *sent = calloc(total, sizeof *sent), *sent_us = calloc(total, sizeof *sent_us);
	int64_t *lat = calloc(total, sizeof *lat), *first = calloc(total, sizeof *first);
	rd_kafka_t *prod = client(RD_KAFKA_PRODUCER, brokers), *cons = client(RD_KAFKA_CONSUMER, brokers);
	assign_end(cons, one_hop ? "cad.calls" : "pmhc.recommendations");
	/* Let the assignment settle before the clock starts. */
	for (int i = 0; i < 50; i++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 20);
		if (m)
			rd_kafka_message_destroy(m);
	}

	Pmhc__V1__CallEvent call = PMHC__V1__CALL_EVENT__INIT;
	Pmhc__V1__Screening scr = PMHC__V1__SCREENING__INIT;
	Pmhc__V1__Location loc = PMHC__V1__LOCATION__INIT;
	call.psap_id = (char *)"BENCH";
	call.revision = 1;
	call.source = PMHC__V1__CALL_SOURCE__SOURCE_911;
	call.nature_code = (char *)"EDP";
	call.screening = &scr;
	call.location = &loc;
	loc.beat = (char *)"B1";
	scr.about_mental_state = PMHC__V1__ANSWER__ANSWER_YES;

	size_t next = 0, got = 0;
	int64_t t0 = now_ns(), period = (int64_t)(1e9 / rate), deadline = 0;
	uint8_t buf[512];
	char id[32], key[48];
	while (got < total) {
		int64_t t = now_ns();
		while (next < total && t - t0 >= (int64_t)next * period) {
			snprintf(id, sizeof id, "L-%zu", next);
			call.call_id = id;
			call.received_at_ms = (int64_t)time(NULL) * 1000;
			size_t len = pmhc__v1__call_event__pack(&call, buf);
			int klen = snprintf(key, sizeof key, "BENCH/%s", id);
			sent[next] = now_ns();
			sent_us[next] = now_real_us();
			if (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("cad.calls"), RD_KAFKA_V_KEY(key, (size_t)klen),
					      RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR) {
				rd_kafka_poll(prod, 1);
				break;
			}
			next++;
		}
		rd_kafka_poll(prod, 0);
		if (next == total && deadline == 0)
			deadline = now_ns() + 10 * (int64_t)1000000000;
		if (deadline && now_ns() > deadline)
			break;
		/* Sleep in poll until the next send is due: a busy loop would take the core it measures. */
		int64_t due = next < total ? t0 + (int64_t)next * period - now_ns() : 1000000;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, due > 0 ? 1 : 0);
		if (m == NULL)
			continue;
		if (!m->err) {
			int64_t arrived = now_ns();
			/* Both messages carry call_id as field 1 and psap_id as field 2. */
			ProtobufCMessage *r = protobuf_c_message_unpack(one_hop ? &pmhc__v1__call_event__descriptor
										: &pmhc__v1__recommendation__descriptor,
									NULL, m->len, m->payload);
			const char *cid = r ? ((Pmhc__V1__CallEvent *)r)->call_id : NULL;
			const char *psap = r ? ((Pmhc__V1__CallEvent *)r)->psap_id : NULL;
			size_t seq;
			if (r && strcmp(psap, "BENCH") == 0 && sscanf(cid, "L-%zu", &seq) == 1 && seq < total &&
			    lat[seq] == 0) {
				lat[seq] = arrived - sent[seq];
				first[seq] = rd_kafka_message_timestamp(m, NULL) * 1000 + 500 - sent_us[seq];
				got++;
			}
			if (r)
				protobuf_c_message_free_unpacked(r, NULL);
		}
		rd_kafka_message_destroy(m);
	}
	double wall = (double)(now_ns() - t0) / 1e9;

	size_t n = 0;
	for (size_t i = warm; i < total; i++)
		if (lat[i] > 0) {
			first[n] = first[i];
			lat[n++] = lat[i];
		}
	printf("%s: %zu calls produced at %.0f/s over %.1f s (%.0f s warm-up not counted), "
	       "%zu back (%zu measured)\n",
	       one_hop ? "one hop (cad.calls -> cad.calls, no pmhcd)" : "live path", next, rate, wall, warmup, got, n);
	if (n > 0) {
		print_percentiles("produce -> consumed", lat, n, 1e6);
		if (!one_hop)
			print_percentiles("of which produce -> recommendation produced", first, n, 1e3);
	}
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	rd_kafka_flush(prod, 5000);
	rd_kafka_destroy(prod);
	free(sent);
	free(sent_us);
	free(lat);
	free(first);
	return got == total ? 0 : 1;
}
