#include "kafka.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "priority.h"
#include "transport_check.h"

/* The reader of cad.units waits at least this long in an idle fetch. */
#define READER_FETCH_WAIT_MIN_MS 100
/* Between lookups of start offsets while a new topic's leaders are elected. */
#define START_RETRY_MS 200

/* The same refused authorization is logged again after this long, with how often it came meanwhile. */
#define REFUSAL_REPEAT_MS 60000

void pmhc_kafka_mask(char *text, const char *value)
{
	/* In place and the same length: the text never grows past its buffer, and no mask matches again. */
	size_t n = strlen(value);
	for (char *at = text; n > 0 && (at = strstr(at, value)) != NULL; at += n)
		memset(at, '*', n);
}

/*
 * A refused property is named, its value never shown: kafka.properties carries
 * passwords and keys (sasl.password, ssl.key.password), and librdkafka's own reason
 * quotes the value it refused.
 */
static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
	char why[256];
	if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
		pmhc_kafka_mask(why, value);
		snprintf(err, errlen, "Kafka property %s refused (its value is not shown): %s", name, why);
		return -1;
	}
	return 0;
}

/* librdkafka's own log lines, in our format, at our levels. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* kafka.properties serves consumer and producer alike, so "a consumer property
	 * ignored by this producer" is expected at every start, not a warning. */
	if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "will be ignored by this") != NULL)
		level = 7;
	if (level <= 3)
		pmhc_error("msg=\"kafka: %s\" facility=%s", pmhc_q(buf), fac);
	else if (level <= 4)
		pmhc_warn("msg=\"kafka: %s\" facility=%s", pmhc_q(buf), fac);
	else if (level <= 6)
		pmhc_info("msg=\"kafka: %s\" facility=%s", pmhc_q(buf), fac);
	else
		pmhc_debug("msg=\"kafka: %s\" facility=%s", pmhc_q(buf), fac);
}

/*
 * The last TLS or login refusal any client saw: a start that times out waiting
 * for the brokers names it as the cause, where librdkafka's own answer is only
 * "Broker transport failure".
 */
static pthread_mutex_t refusal_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_refusal[PMHC_KAFKA_REFUSAL_LEN];

/* Errors the client reports outside any request: a broker down, auth failing. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
		const char *hint = pmhc_kafka_error_hint(reason);
		pthread_mutex_lock(&refusal_lock);
		snprintf(last_refusal, sizeof last_refusal, "%s", reason);
		pthread_mutex_unlock(&refusal_lock);
		pmhc_error("msg=\"Kafka broker refused the connection\" code=%s error=\"%s\" hint=\"%s\"",
			   rd_kafka_err2name(err), pmhc_q(reason),
			   hint ? hint : "check the ssl.* and sasl.* kafka.properties");
	} else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT)
		pmhc_warn("msg=\"Kafka unreachable; librdkafka keeps retrying\" error=\"%s\"", pmhc_q(reason));
	else
		pmhc_error("msg=\"Kafka error\" code=%s error=\"%s\"", rd_kafka_err2name(err), pmhc_q(reason));
}

bool pmhc_kafka_last_refusal(char *buf, size_t len)
{
	pthread_mutex_lock(&refusal_lock);
	snprintf(buf, len, "%s", last_refusal);
	pthread_mutex_unlock(&refusal_lock);
	return buf[0] != '\0';
}

#define FETCH_WAIT_MS "10"

/* Room for librdkafka's reason a client could not be made, and for naming the client. */
#define PMHC_KAFKA_WHY_LEN 512
#define PMHC_KAFKA_WHAT_LEN 192

/* A client of conf, which it owns from here on: destroyed when none could be made. */
static rd_kafka_t *create(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what, char *err, size_t errlen)
{
	char why[PMHC_KAFKA_WHY_LEN];
	/* rd_kafka_new takes ownership of conf on success only. */
	rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
	if (rk == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", what, why);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static rd_kafka_conf_t *base_conf(const struct pmhc_config *cfg, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	/*
	 * A short longest wait for an idle fetch, before the operator's properties so
	 * they can change it. With librdkafka's 500 ms, pmhcd against Apache Kafka 4.4
	 * took 165 ms at p50 and 3.7 s at p99 from produce to recommendation at 1,000
	 * calls/s (bench/live.sh); with 10 ms, about 1 ms at p50. An idle consumer then
	 * asks each broker up to 100 times a second, which a broker serves easily.
	 */
	if (set(conf, "bootstrap.servers", cfg->kafka_brokers, err, errlen) != 0 ||
	    set(conf, "client.id", "pmhcd", err, errlen) != 0 ||
	    set(conf, "fetch.wait.max.ms", FETCH_WAIT_MS, err, errlen) != 0)
		goto fail;
	for (size_t i = 0; i < cfg->n_kafka_properties; i++) {
		char name[128];
		const char *p = cfg->kafka_properties[i], *eq = strchr(p, '=');
		snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
		if (set(conf, name, eq + 1, err, errlen) != 0)
			goto fail;
	}
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

rd_kafka_t *pmhc_kafka_consumer_new(const struct pmhc_config *cfg, const char *group_id, bool partition_eof,
				    void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
							 rd_kafka_topic_partition_list_t *, void *),
				    pmhc_kafka_stats_cb stats_cb, void *opaque, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = base_conf(cfg, err, errlen);
	if (conf == NULL)
		return NULL;
	/* The consumer lag and broker states of /metrics; the operator's own interval wins. */
	char interval[16] = "0";
	size_t ilen = sizeof interval;
	if (stats_cb != NULL) {
		rd_kafka_conf_set_stats_cb(conf, stats_cb);
		if (rd_kafka_conf_get(conf, "statistics.interval.ms", interval, &ilen) != RD_KAFKA_CONF_OK ||
		    strcmp(interval, "0") == 0)
			snprintf(interval, sizeof interval, "%d", PMHC_KAFKA_STATS_MS);
		if (set(conf, "statistics.interval.ms", interval, err, errlen) != 0) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	/* Owned by pmhcd: at-least-once needs offsets stored only after the work is durable. */
	if (set(conf, "group.id", group_id, err, errlen) != 0 ||
	    set(conf, "enable.auto.offset.store", "false", err, errlen) != 0 ||
	    set(conf, "enable.auto.commit", "true", err, errlen) != 0 ||
	    set(conf, "auto.offset.reset", "earliest", err, errlen) != 0 ||
	    set(conf, "enable.partition.eof", partition_eof ? "true" : "false", err, errlen) != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	if (rebalance_cb != NULL)
		rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_opaque(conf, opaque);

	rd_kafka_t *rk = create(RD_KAFKA_CONSUMER, conf, "the Kafka consumer", err, errlen);
	if (rk == NULL)
		return NULL;
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

rd_kafka_t *pmhc_kafka_producer_new(const struct pmhc_config *cfg,
				    void (*dr_msg_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *), void *opaque,
				    char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = base_conf(cfg, err, errlen);
	if (conf == NULL)
		return NULL;
	/*
	 * Recommendations are live: send at once. Idempotence keeps a retried
	 * send from duplicating on the topic; murmur2_random matches Java clients,
	 * so a call's recommendation lands where other tools expect it.
	 */
	if (set(conf, "linger.ms", "0", err, errlen) != 0 ||
	    set(conf, "enable.idempotence", "true", err, errlen) != 0 ||
	    set(conf, "partitioner", "murmur2_random", err, errlen) != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	if (dr_msg_cb != NULL)
		rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	rd_kafka_conf_set_opaque(conf, opaque);
	return create(RD_KAFKA_PRODUCER, conf, "the Kafka producer", err, errlen);
}

/*
 * The consumer reads nothing without its group. A reader joins none: only the
 * coordinator lookup of the group it must name fails, and it reads on.
 */
static void log_group_refusal(const rd_kafka_message_t *m, const char *who, const char *gid, const char *group_acl,
			      bool needed, unsigned long repeats)
{
	if (needed)
		pmhc_error("msg=\"Kafka refuses the %s its consumer group: nothing is read until pmhcd's principal "
			   "may; librdkafka keeps asking\" group=\"%s\" code=%s error=\"%s\" repeats=%lu hint=\"grant "
			   "pmhcd's principal %s (config/pmhcd-kafka-acls.sh); reading starts by itself once it is "
			   "granted\"",
			   who, pmhc_q(gid), rd_kafka_err2name(m->err), pmhc_q(rd_kafka_message_errstr(m)), repeats,
			   group_acl);
	else
		pmhc_warn("msg=\"Kafka refuses the %s the coordinator of the group it names; it reads on, as it "
			  "joins no group and commits nothing\" group=\"%s\" code=%s error=\"%s\" repeats=%lu "
			  "hint=\"grant pmhcd's principal %s (config/pmhcd-kafka-acls.sh) to quiet this\"",
			  who, pmhc_q(gid), rd_kafka_err2name(m->err), pmhc_q(rd_kafka_message_errstr(m)), repeats,
			  group_acl);
}

bool pmhc_kafka_refused(rd_kafka_t *rk, const rd_kafka_message_t *m, const char *who, const char *group_acl,
			bool group_needed, struct pmhc_kafka_refusals *seen)
{
	bool group = m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
	if (!group && m->err != RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
		return false;
	int64_t now = pmhc_mono_ms();
	if (seen->err == m->err && now - seen->at_ms < REFUSAL_REPEAT_MS) {
		seen->repeats++;
		return true;
	}
	char gid[PMHC_KAFKA_GROUP_LEN] = "?";
	size_t glen = sizeof gid;
	rd_kafka_conf_get(rd_kafka_conf(rk), "group.id", gid, &glen);
	const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
	if (group)
		log_group_refusal(m, who, gid, group_acl, group_needed, seen->repeats);
	else
		pmhc_error("msg=\"Kafka refuses the %s a topic: nothing is read from it until pmhcd's principal may; "
			   "librdkafka keeps asking\" topic=\"%s\" group=\"%s\" code=%s error=\"%s\" repeats=%lu "
			   "hint=\"grant pmhcd's principal Read on the topic (config/pmhcd-kafka-acls.sh); reading "
			   "starts by itself once it is granted\"",
			   who, pmhc_q(topic), pmhc_q(gid), rd_kafka_err2name(m->err),
			   pmhc_q(rd_kafka_message_errstr(m)), seen->repeats);
	*seen = (struct pmhc_kafka_refusals){ m->err, now, 0 };
	return true;
}

void pmhc_kafka_reader_group(const struct pmhc_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s-reader-%ld", cfg->kafka_group_id, (long)getpid());
}

void pmhc_kafka_reader_acl(const struct pmhc_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "Describe on the groups prefixed %s-reader-", cfg->kafka_group_id);
}

int pmhc_kafka_subscribe(rd_kafka_t *rk, const char *const *topics, size_t n, char *err, size_t errlen)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(list, topics[i], RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "cannot subscribe: %s", rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

/* Errors of a topic just created or a leader moving: they clear by themselves. */
static bool clears_by_itself(rd_kafka_resp_err_t e)
{
	return e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
	       e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__TIMED_OUT ||
	       e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
	       e == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
}

/*
 * Each partition at the first offset at or after from_ms; a partition with
 * nothing that recent starts at its end. A topic created a moment ago has no
 * leaders yet, so the lookup is retried until timeout_ms instead of failing
 * pmhcd's start.
 */
static rd_kafka_resp_err_t start_at_time(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int64_t from_ms,
					 int timeout_ms)
{
	int64_t until = pmhc_mono_ms() + timeout_ms;
	rd_kafka_resp_err_t e;
	for (;;) {
		for (int i = 0; i < parts->cnt; i++)
			parts->elems[i].offset = from_ms;
		int64_t left = until - pmhc_mono_ms();
		e = rd_kafka_offsets_for_times(rk, parts, left > 0 ? (int)left : 0);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			for (int i = 0; i < parts->cnt && e == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
				e = parts->elems[i].err;
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR || !clears_by_itself(e) || pmhc_mono_ms() + START_RETRY_MS >= until)
			break;
		pmhc_sleep_ms(START_RETRY_MS);
	}
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < parts->cnt; i++)
		if (parts->elems[i].offset < 0)
			parts->elems[i].offset = RD_KAFKA_OFFSET_END;
	return e;
}

rd_kafka_conf_t *pmhc_kafka_reader_conf(const struct pmhc_config *cfg, int gather_ms, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = base_conf(cfg, err, errlen);
	if (conf == NULL)
		return NULL;
	/*
	 * librdkafka wants a group.id even for assign(); a private one that never
	 * subscribes or commits keeps this reader out of pmhcd's group.
	 */
	char group[PMHC_KAFKA_GROUP_LEN];
	pmhc_kafka_reader_group(cfg, group, sizeof group);
	if (set(conf, "group.id", group, err, errlen) != 0 ||
	    set(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
	    set(conf, "enable.auto.offset.store", "false", err, errlen) != 0 ||
	    set(conf, "enable.partition.eof", "false", err, errlen) != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	/*
	 * A broker answers a fetch as soon as data arrives, so the longest wait
	 * of an idle fetch delays nothing. A short one set for the calls (the
	 * test suite's mock answers only after the full wait) would make this
	 * reader ask a thousand times a second for statuses that come a few
	 * times a minute, and take CPU and broker time from the calls.
	 */
	char wait[32];
	size_t wait_len = sizeof wait;
	if (rd_kafka_conf_get(conf, "fetch.wait.max.ms", wait, &wait_len) == RD_KAFKA_CONF_OK &&
	    atoi(wait) < READER_FETCH_WAIT_MIN_MS) {
		snprintf(wait, sizeof wait, "%d", READER_FETCH_WAIT_MIN_MS);
		if (set(conf, "fetch.wait.max.ms", wait, err, errlen) != 0) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	char gather[32];
	snprintf(gather, sizeof gather, "%d", gather_ms);
	if (gather_ms > 0 && (set(conf, "fetch.wait.max.ms", gather, err, errlen) != 0 ||
			      set(conf, "fetch.min.bytes", PMHC_KAFKA_GATHER_BYTES, err, errlen) != 0)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	pmhc_priority_background_kafka(conf);
	return conf;
}

rd_kafka_t *pmhc_kafka_reader_create(rd_kafka_conf_t *conf, const char *topic, char *err, size_t errlen)
{
	char what[PMHC_KAFKA_WHAT_LEN];
	snprintf(what, sizeof what, "the %s reader", topic);
	rd_kafka_t *rk = create(RD_KAFKA_CONSUMER, conf, what, err, errlen);
	if (rk != NULL)
		rd_kafka_poll_set_consumer(rk);
	return rk;
}

rd_kafka_t *pmhc_kafka_reader_new(const struct pmhc_config *cfg, const char *topic, int64_t from_ms, int gather_ms,
				  int timeout_ms, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = pmhc_kafka_reader_conf(cfg, gather_ms, err, errlen);
	rd_kafka_t *rk = conf != NULL ? pmhc_kafka_reader_create(conf, topic, err, errlen) : NULL;
	if (rk == NULL)
		return NULL;

	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
	rd_kafka_topic_destroy(rkt);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && md->topics[0].err)
		e = md->topics[0].err;
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].partition_cnt == 0) {
		/* Serve the queued errors first: a refusal seen meanwhile is the cause to name. */
		for (int i = 0; i < 100; i++) {
			rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);
			if (m == NULL)
				break;
			rd_kafka_message_destroy(m);
		}
		char refusal[PMHC_KAFKA_REFUSAL_LEN];
		bool refused = pmhc_kafka_last_refusal(refusal, sizeof refusal);
		snprintf(err, errlen, "cannot read the partitions of %s: %s%s%s%s", topic,
			 e ? rd_kafka_err2str(e) : "topic has no partitions",
			 refused ? " (the broker refused us: " : "", refused ? refusal : "", refused ? ")" : "");
		if (md)
			rd_kafka_metadata_destroy(md);
		rd_kafka_destroy(rk);
		return NULL;
	}
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
	for (int i = 0; i < md->topics[0].partition_cnt; i++)
		rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)->offset =
			from_ms == PMHC_KAFKA_FROM_BEGINNING ? RD_KAFKA_OFFSET_BEGINNING : from_ms;
	rd_kafka_metadata_destroy(md);
	e = from_ms == PMHC_KAFKA_FROM_BEGINNING ? RD_KAFKA_RESP_ERR_NO_ERROR
						 : start_at_time(rk, parts, from_ms, timeout_ms);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		e = rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "cannot start reading the partitions of %s: %s", topic, rd_kafka_err2str(e));
		rd_kafka_destroy(rk);
		return NULL;
	}
	return rk;
}

rd_kafka_topic_partition_list_t *pmhc_kafka_end_offsets(rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_resp_err_t e = rd_kafka_assignment(rk, &parts);
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < parts->cnt; i++) {
		int64_t lo, hi;
		e = rd_kafka_query_watermark_offsets(rk, parts->elems[i].topic, parts->elems[i].partition, &lo, &hi,
						     timeout_ms);
		parts->elems[i].offset = hi;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "cannot read end offsets: %s", rd_kafka_err2str(e));
		if (parts)
			rd_kafka_topic_partition_list_destroy(parts);
		return NULL;
	}
	return parts;
}
