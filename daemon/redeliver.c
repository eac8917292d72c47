#include "redeliver.h"

#include <stdlib.h>
#include <sysexits.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "outbox.h"
#include "pipeline_int.h"

/*
 * A failed message goes again after 500 ms, doubling to every 30 s: a broker's
 * leader election or a topic being created is ridden out at once, and a message
 * that cannot land does not flood the log or the broker.
 */
#define REDELIVER_FIRST_MS 500
#define REDELIVER_CAP_MS 30000

/*
 * After this many failures (about 15 s of backoff, or five message timeouts)
 * the failure is no longer a hiccup: the pipeline is stalled at that input and
 * says so at error level, each time it tries again.
 */
#define REDELIVER_STALL_AFTER 5

static void *dup_bytes(const void *src, size_t len)
{
	void *c = malloc(len ? len : 1);
	if (c != NULL && len > 0)
		memcpy(c, src, len);
	return c;
}

static void free_held(struct pmhc_held *h)
{
	if (h->headers != NULL)
		rd_kafka_headers_destroy(h->headers);
	free(h->topic);
	free(h->key);
	free(h->val);
	free(h);
}

/* What to do about it, where the error says. */
static const char *hint(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return "raise message.max.bytes in kafka.properties and max.message.bytes of the topic, then restart";
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return "the producer's queue is full: wait for the brokers, or raise queue.buffering.max.kbytes in "
		       "kafka.properties above the message's size, then restart";
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: return "create the topic or grant pmhcd write access to it";
	default: return "check the brokers and the topic";
	}
}

/* Says what failed: a warning while it may be a hiccup, an error once the pipeline is stalled on it. */
static void log_failure(const struct pmhc_held *h, rd_kafka_resp_err_t err)
{
	const struct pmhc_delivery *d = h->d;
	const char *what = d->dlq ? "DLQ message" : "recommendation";
	if (h->look != NULL)
		pmhc_warn("msg=\"recommendation not confirmed, and the broker may have written it; looking for it on "
			  "the topic before sending it again\" topic=%s source=%s/%d/%lld failures=%d error=\"%s\"",
			  h->topic, d->src_topic, (int)d->src_partition, (long long)d->src_offset, d->failures,
			  rd_kafka_err2str(err));
	else if (d->failures < REDELIVER_STALL_AFTER)
		pmhc_warn("msg=\"%s not delivered; sending again\" topic=%s source=%s/%d/%lld failures=%d "
			  "retry_in_ms=%ld error=\"%s\"",
			  what, h->topic, d->src_topic, (int)d->src_partition, (long long)d->src_offset, d->failures,
			  h->backoff_ms, rd_kafka_err2str(err));
	else
		pmhc_error("msg=\"%s cannot be delivered; the pipeline is stalled at its input, nothing after it "
			   "is committed\" topic=%s source_topic=%s source_partition=%d source_offset=%lld "
			   "failures=%d retry_in_ms=%ld error=\"%s\" hint=\"%s\"",
			   what, h->topic, d->src_topic, (int)d->src_partition, (long long)d->src_offset, d->failures,
			   h->backoff_ms, rd_kafka_err2str(err), hint(err));
}

static long backoff_for(int failures)
{
	long ms = REDELIVER_FIRST_MS;
	for (int i = 1; i < failures && ms < REDELIVER_CAP_MS; i++)
		ms = pmhc_backoff_next(ms, REDELIVER_CAP_MS);
	return ms;
}

/*
 * A recommendation the broker may have written is looked for on the topic
 * before it goes again (recheck.c): sent blind, one the broker kept would be
 * published twice. A dead letter is sent again as it is: a second copy names
 * the same input and reason, and its row is stored once. Without memory to
 * ask, it is sent again too: a duplicate is better than a recommendation lost.
 */
static void look_first(struct pipeline *p, struct pmhc_held *h, const struct pmhc_maybe_written *maybe)
{
	const void *instance = NULL;
	size_t instance_len = 0;
	if (p->recheck == NULL || h->headers == NULL ||
	    rd_kafka_header_get_last(h->headers, PMHC_INSTANCE_HEADER, &instance, &instance_len) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	struct pmhc_landed_want w = { .key = h->key,
				      .key_len = h->key != NULL ? h->key_len : 0,
				      .val = h->val,
				      .val_len = h->len,
				      .instance = instance,
				      .instance_len = instance_len,
				      .partition = maybe->partition,
				      .made_ms = h->d->made_ms,
				      .failed_ms = pmhc_wall_ms() };
	h->look = pmhc_recheck_ask(p->recheck, &w);
	if (h->look == NULL)
		pmhc_error("msg=\"out of memory looking for a recommendation the broker may have written; sending it "
			   "again, which may publish it twice\" topic=%s",
			   h->topic);
}

void pmhc_redeliver_hold(struct pipeline *p, struct pmhc_delivery *d, const char *topic, const void *key,
			 size_t key_len, const void *val, size_t len, rd_kafka_headers_t *headers,
			 rd_kafka_resp_err_t err, bool counted, const struct pmhc_maybe_written *maybe)
{
	if (!counted)
		d->batch->undelivered++;
	d->failures++;
	struct pmhc_held *h = calloc(1, sizeof *h);
	if (h != NULL) {
		h->topic = strdup(topic);
		h->key = key != NULL ? dup_bytes(key, key_len) : NULL;
		h->val = dup_bytes(val, len);
	}
	if (h == NULL || h->topic == NULL || (key != NULL && h->key == NULL) || h->val == NULL) {
		/* Its batch stays undelivered: the offset never moves, and a restart replays the input. */
		pmhc_error("msg=\"out of memory holding an undelivered message; its input stays uncommitted until "
			   "a restart replays it\" topic=%s source=%s/%d/%lld",
			   topic, d->src_topic, (int)d->src_partition, (long long)d->src_offset);
		if (headers != NULL)
			rd_kafka_headers_destroy(headers);
		if (h != NULL)
			free_held(h);
		p->exit_code = EX_TEMPFAIL; /* nothing reaps the batch now: a restart replays it */
		return;
	}
	h->d = d;
	h->key_len = key_len;
	h->len = len;
	h->headers = headers;
	h->backoff_ms = backoff_for(d->failures);
	h->due_ms = pmhc_mono_ms() + h->backoff_ms;
	if (maybe != NULL && !d->dlq)
		look_first(p, h, maybe);
	/* At the tail: sent again oldest first, so a call's revisions keep their order. */
	if (p->held_tail == NULL)
		p->held_tail = &p->held;
	*p->held_tail = h;
	p->held_tail = &h->next;
	if (!d->dlq)
		p->st.recs_failed++;
	else
		p->st.dlq_resent++;
	log_failure(h, err);
}

/* Takes h off the list at *at, which then holds the next one. */
static void unlink_held(struct pipeline *p, struct pmhc_held **at)
{
	struct pmhc_held *h = *at;
	*at = h->next;
	if (h->next == NULL)
		p->held_tail = at;
	free_held(h);
}

enum look_outcome { LOOK_PENDING, LOOK_FOUND, LOOK_SEND };

/*
 * The answer about a held recommendation looked for on the topic. Found, it
 * counts as delivered and is taken off the list; not there, it is due to be
 * sent again now.
 */
static enum look_outcome collect_look(struct pipeline *p, struct pmhc_held **at)
{
	struct pmhc_held *h = *at;
	enum pmhc_recheck_answer a = pmhc_recheck_collect(p->recheck, h->look);
	if (a == PMHC_RECHECK_PENDING)
		return LOOK_PENDING;
	h->look = NULL;
	const struct pmhc_delivery *d = h->d;
	if (a == PMHC_RECHECK_LANDED) {
		pmhc_info(
			"msg=\"recommendation found on the topic after all; not sent again\" topic=%s source=%s/%d/%lld",
			h->topic, d->src_topic, (int)d->src_partition, (long long)d->src_offset);
		h->d->batch->undelivered--;
		p->st.recs_landed++;
		unlink_held(p, at);
		return LOOK_FOUND;
	}
	pmhc_info("msg=\"recommendation not on the topic; sending it again\" topic=%s source=%s/%d/%lld", h->topic,
		  d->src_topic, (int)d->src_partition, (long long)d->src_offset);
	h->due_ms = pmhc_mono_ms();
	return LOOK_SEND;
}

/* Queues h with the producer; true when it took it (and its headers). */
static bool send_held(struct pipeline *p, struct pmhc_held *h)
{
	rd_kafka_resp_err_t e =
		rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(h->topic), RD_KAFKA_V_KEY(h->key, h->key_len),
				  RD_KAFKA_V_VALUE(h->val, h->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				  RD_KAFKA_V_HEADERS(h->headers), RD_KAFKA_V_OPAQUE(h->d), RD_KAFKA_V_END);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		h->d->made_ms = pmhc_wall_ms(); /* should it fail again, its copy is stamped from here on */
		return true;
	}
	h->d->failures++;
	h->backoff_ms = backoff_for(h->d->failures);
	h->due_ms = pmhc_mono_ms() + h->backoff_ms;
	log_failure(h, e);
	return false;
}

void pmhc_redeliver_tick(struct pipeline *p)
{
	pmhc_outbox_renew_if_fatal(p);
	int64_t now = pmhc_mono_ms();
	for (struct pmhc_held **at = &p->held; *at != NULL;) {
		struct pmhc_held *h = *at;
		enum look_outcome l = h->look != NULL ? collect_look(p, at) : LOOK_SEND;
		if (l == LOOK_FOUND)
			continue; /* taken off: *at is the next one */
		if (l == LOOK_PENDING || h->due_ms > now || !send_held(p, h)) {
			at = &h->next;
			continue;
		}
		/* The producer owns the headers now; the next report says whether it landed. */
		h->headers = NULL;
		unlink_held(p, at);
	}
}

size_t pmhc_redeliver_count(const struct pipeline *p, size_t *stalled)
{
	size_t n = 0, s = 0;
	for (const struct pmhc_held *h = p->held; h != NULL; h = h->next) {
		n++;
		if (h->d->failures >= REDELIVER_STALL_AFTER)
			s++;
	}
	if (stalled != NULL)
		*stalled = s;
	return n;
}

void pmhc_redeliver_clear(struct pipeline *p)
{
	size_t n = pmhc_redeliver_count(p, NULL);
	if (n > 0)
		pmhc_warn("msg=\"messages still undelivered at exit; their inputs stay uncommitted and are replayed "
			  "on restart\" count=%zu",
			  n);
	for (struct pmhc_held *h = p->held, *next; h != NULL; h = next) {
		next = h->next;
		free_held(h);
	}
	p->held = NULL;
	p->held_tail = &p->held;
}
