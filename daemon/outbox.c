#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "clock.h"
#include "digest.h"
#include "kafka.h"
#include "log.h"
#include "observe.h"
#include "pipeline_int.h"
#include "redeliver.h"

/* With librdkafka's local queue full, wait this long for deliveries to make room, then try again. */
#define QUEUE_FULL_WAIT_MS 100

/* At exit, what is still queued gets this long to be delivered before it is given up. */
#define EXIT_FLUSH_MS 5000

/* The pmhc-* headers of SPEC section 8: reason, source topic, partition and offset. */
#define DLQ_HEADERS 4

/* Room for any int32_t in decimal (sign, 10 digits, NUL), and any int64_t (sign, 19 digits, NUL). */
#define INT32_TEXT_LEN 12
#define INT64_TEXT_LEN 21

/*
 * A message that did not land is held and sent again (redeliver.c): its batch
 * keeps counting it, so no offset moves past it. One that landed is counted off.
 */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct pipeline *p = opaque;
	struct pmhc_delivery *d = m->_private;
	if (d == NULL)
		return;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		d->batch->undelivered--;
		return;
	}
	rd_kafka_headers_t *h = NULL;
	rd_kafka_message_headers(m, &h);
	/*
	 * A request that reached a broker which died before answering, or that was
	 * purged in flight from a producer failed fatally, may be on the topic:
	 * sent again blind, it would be there twice.
	 */
	struct pmhc_maybe_written maybe = { m->partition };
	bool unsure = rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED;
	pmhc_redeliver_hold(p, d, rd_kafka_topic_name(m->rkt), m->key, m->key_len, m->payload, m->len,
			    h ? rd_kafka_headers_copy(h) : NULL, m->err, true, unsure ? &maybe : NULL);
}

/*
 * PMHC_TEST_PRODUCER_FATAL_AFTER=N[+MS] makes the producer fail fatally once,
 * after the Nth recommendation, or MS milliseconds after it: a fatal
 * idempotent-producer error (an out-of-order sequence, a fenced epoch) cannot
 * be caused on demand by a real broker, and the tests must show that what the
 * dead producer held is sent again, and what it had in flight is not sent
 * twice. Unset, it does nothing.
 */
static unsigned long fatal_after(long *delay_ms)
{
	const char *v = getenv("PMHC_TEST_PRODUCER_FATAL_AFTER");
	char *end = NULL;
	unsigned long n = v != NULL ? strtoul(v, &end, 10) : 0;
	*delay_ms = n > 0 && *end == '+' ? strtol(end + 1, NULL, 10) : 0;
	return n;
}

static void test_fatal(struct pipeline *p)
{
	p->fatal_at_ms = 0;
	rd_kafka_test_fatal_error(p->producer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
				  "PMHC_TEST_PRODUCER_FATAL_AFTER");
}

int pmhc_outbox_open(struct pipeline *p, char *err, size_t errlen)
{
	p->producer = pmhc_kafka_producer_new(p->cfg, dr_msg_cb, p, err, errlen);
	p->fatal_after = fatal_after(&p->fatal_delay_ms);
	if (p->producer == NULL)
		return -1;
	p->recheck = pmhc_recheck_open(p->cfg, err, errlen);
	return p->recheck != NULL ? 0 : -1;
}

/* How long a dead producer gets to hand back what it held, as failed delivery reports. */
#define FATAL_PURGE_WAIT_MS 2000
#define FATAL_PURGE_POLL_MS 20
#define RENEW_RETRY_MS 1000
#define RENEW_LOG_EVERY 60

void pmhc_outbox_renew_if_fatal(struct pipeline *p)
{
	if (p->fatal_at_ms != 0 && pmhc_mono_ms() >= p->fatal_at_ms)
		test_fatal(p);
	char why[PMHC_ERR_LEN];
	rd_kafka_resp_err_t fe = rd_kafka_fatal_error(p->producer, why, sizeof why);
	if (fe == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	/*
	 * Only a new producer recovers from a fatal error; what the old one held
	 * comes back to be resent. One that cannot be made (a certificate gone, a
	 * property refused) is tried again once a second, said once a minute.
	 */
	if (pmhc_mono_ms() < p->renew_after_ms)
		return;
	if (p->renew_failures == 0)
		pmhc_error("msg=\"Kafka producer failed fatally; replacing it and sending again what it held\" "
			   "code=%s error=\"%s\"",
			   rd_kafka_err2name(fe), why);
	char err[PMHC_ERR_LEN];
	rd_kafka_t *next = pmhc_kafka_producer_new(p->cfg, dr_msg_cb, p, err, sizeof err);
	if (next == NULL) {
		if (p->renew_failures++ % RENEW_LOG_EVERY == 0)
			pmhc_error("msg=\"cannot make a new Kafka producer; trying again every second\" error=\"%s\" "
				   "attempts=%lu",
				   err, p->renew_failures);
		p->renew_after_ms = pmhc_mono_ms() + RENEW_RETRY_MS;
		return;
	}
	p->renew_failures = 0;
	rd_kafka_purge(p->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	int64_t until = pmhc_mono_ms() + FATAL_PURGE_WAIT_MS;
	while (rd_kafka_outq_len(p->producer) > 0 && pmhc_mono_ms() < until)
		rd_kafka_poll(p->producer, FATAL_PURGE_POLL_MS);
	rd_kafka_poll(p->producer, 0);
	if (rd_kafka_outq_len(p->producer) > 0) {
		pmhc_error("msg=\"the failed producer kept messages without a report; their inputs stay "
			   "uncommitted until a restart replays them\" count=%d",
			   rd_kafka_outq_len(p->producer));
		p->exit_code = EX_TEMPFAIL; /* their batches are never reaped now: that restart */
	}
	rd_kafka_destroy(p->producer);
	p->producer = next;
}

void pmhc_outbox_close(struct pipeline *p)
{
	if (p->producer == NULL)
		return;
	/* A stop has limits.shutdown_timeout in all: the flush gets what is left of it. */
	int64_t left = p->stop_deadline_ms ? p->stop_deadline_ms - pmhc_mono_ms() : EXIT_FLUSH_MS;
	int wait_ms = left < 0 ? 0 : left < EXIT_FLUSH_MS ? (int)left : EXIT_FLUSH_MS;
	if (rd_kafka_flush(p->producer, wait_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
		pmhc_warn("msg=\"some recommendations were still unsent at exit\" count=%d",
			  rd_kafka_outq_len(p->producer));
	rd_kafka_destroy(p->producer);
	p->producer = NULL;
	/* Its jobs point into what is held: it goes first. */
	pmhc_recheck_close(p->recheck);
	p->recheck = NULL;
	pmhc_redeliver_clear(p);
}

static bool grow_packbuf(struct pipeline *p, size_t need)
{
	uint8_t *nb = realloc(p->packbuf, need);
	if (nb == NULL)
		return false;
	p->packbuf = nb;
	p->packcap = need;
	return true;
}

/*
 * Produce, waiting out a full local queue rather than dropping. The queue
 * stays full while the brokers are away (up to message.timeout.ms): the wait
 * keeps the watchdog and /healthz fed, and gives way to a stop. A message
 * larger than the whole queue (queue.buffering.max.kbytes) never fits: with
 * the queue empty it is refused at once. Either way it is held, its input's
 * offset uncommitted.
 */
static rd_kafka_resp_err_t produce(struct pipeline *p, const char *topic, const void *key, size_t key_len,
				   const void *val, size_t len, rd_kafka_headers_t *headers, struct pmhc_delivery *d)
{
	for (;;) {
		rd_kafka_resp_err_t e =
			rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
					  RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					  RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || p->sig->stop || rd_kafka_outq_len(p->producer) == 0)
			return e;
		pmhc_observe_step(p);
		rd_kafka_poll(p->producer, QUEUE_FULL_WAIT_MS);
	}
}

/* The pmhc-* headers of SPEC section 8, naming where a rejected input came from and why. */
static rd_kafka_headers_t *dlq_headers(const char *topic, int32_t partition, int64_t offset, const char *reason)
{
	char part[INT32_TEXT_LEN], off[INT64_TEXT_LEN];
	snprintf(part, sizeof part, "%d", (int)partition);
	snprintf(off, sizeof off, "%lld", (long long)offset);
	rd_kafka_headers_t *h = rd_kafka_headers_new(DLQ_HEADERS);
	rd_kafka_header_add(h, "pmhc-reason", -1, reason, -1);
	rd_kafka_header_add(h, "pmhc-source-topic", -1, topic, -1);
	rd_kafka_header_add(h, "pmhc-source-partition", -1, part, -1);
	rd_kafka_header_add(h, "pmhc-source-offset", -1, off, -1);
	return h;
}

/* A delivery record in b's arena, naming the input behind the message; NULL when out of memory. */
static struct pmhc_delivery *delivery(struct pmhc_batch *b, bool dlq, const char *topic, int32_t partition,
				      int64_t offset)
{
	struct pmhc_delivery *d = pmhc_arena_alloc(&b->arena, sizeof *d);
	const char *t = d ? pmhc_arena_strdup(&b->arena, topic) : NULL;
	if (t == NULL)
		return NULL;
	*d = (struct pmhc_delivery){ .batch = b,
				     .dlq = dlq,
				     .src_topic = t,
				     .src_partition = partition,
				     .src_offset = offset,
				     .made_ms = pmhc_wall_ms() };
	return d;
}

/*
 * Produces one message whose delivery b awaits. Refused at once (too large,
 * an unknown topic, a producer failed fatally), it is held and sent again
 * like one whose delivery failed: the input's offset waits for it either way.
 */
static void send_awaited(struct pipeline *p, struct pmhc_delivery *d, const char *topic, const void *key,
			 size_t key_len, const void *val, size_t len, rd_kafka_headers_t *h)
{
	rd_kafka_resp_err_t e = produce(p, topic, key, key_len, val, len, h, d);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		d->batch->undelivered++;
	else
		pmhc_redeliver_hold(p, d, topic, key, key_len, val, len, h, e, false, NULL);
}

/*
 * Sends one rejected input to the DLQ with the pmhc-* headers of SPEC section 8.
 * Its delivery is awaited with the batch: the offset moves only once it landed.
 */
static bool produce_dlq(struct pipeline *p, struct pmhc_batch *b, const struct pmhc_poison *x)
{
	struct pmhc_delivery *d = delivery(b, true, x->topic, x->partition, x->offset);
	if (d == NULL) {
		/* Nothing produced, nothing awaited: the batch is held back so the input is replayed. */
		b->undelivered++;
		p->exit_code = EX_TEMPFAIL; /* nothing reaps the batch now: a restart replays it */
		pmhc_error("msg=\"out of memory sending to the DLQ; holding the input's offset\" topic=%s "
			   "partition=%d offset=%lld",
			   x->topic, (int)x->partition, (long long)x->offset);
		return false;
	}
	rd_kafka_headers_t *h = dlq_headers(x->topic, x->partition, x->offset, x->reason);
	send_awaited(p, d, p->cfg->topic_dlq, x->key, x->key_len, x->bytes, x->len, h);
	p->st.rejected++;
	return true;
}

void pmhc_outbox_reject(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m, const char *reason)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	struct pmhc_rejected_row r = {
		.topic = pmhc_arena_strdup(&b->arena, topic),
		.partition = m->partition,
		.offset = m->offset,
		.reason = pmhc_arena_strdup(&b->arena, reason),
		.size = m->len,
	};
	pmhc_sha256(m->payload ? m->payload : "", m->len, r.payload_sha256);
	if (!pmhc_batch_add_rejected(b, &r)) {
		/* Its offset must not move without the record: the batch is held back, replayed on restart. */
		b->undelivered++;
		p->exit_code = EX_TEMPFAIL; /* nothing reaps the batch now: a restart replays it */
		pmhc_error("msg=\"out of memory recording a rejected event; holding its offset\" topic=%s "
			   "partition=%d offset=%lld",
			   topic, (int)m->partition, (long long)m->offset);
		return;
	}
	/* The payload as it came: the DLQ copy is the input itself. */
	struct pmhc_poison x = { topic, m->partition, m->offset, reason, m->payload, m->len, m->key, m->key_len };
	if (produce_dlq(p, b, &x))
		pmhc_warn("msg=\"input rejected to the DLQ\" topic=%s partition=%d offset=%lld reason=\"%s\"", topic,
			  (int)m->partition, (long long)m->offset, pmhc_q(reason));
}

void pmhc_outbox_send_poison(struct pipeline *p, struct pmhc_batch *b)
{
	for (size_t i = 0; i < b->n_poison; i++)
		produce_dlq(p, b, &b->poison[i]);
	b->poison_sent = true;
}

/* The recommendation onto its topic, at once; its delivery is awaited with the batch. */
void pmhc_outbox_publish(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m,
			 const struct pmhc_rec_scratch *s, const char *key, size_t klen)
{
	const struct pmhc_config *cfg = p->cfg;
	size_t need = pmhc__v1__recommendation__get_packed_size(&s->rec);
	struct pmhc_delivery *dv = delivery(b, false, rd_kafka_topic_name(m->rkt), m->partition, m->offset);
	if (dv == NULL || (need > p->packcap && !grow_packbuf(p, need))) {
		/* Unpublished, and nothing awaited: the batch is held back so the call is decided again on restart. */
		b->undelivered++;
		p->exit_code = EX_TEMPFAIL; /* nothing reaps the batch now: a restart replays it */
		pmhc_error("msg=\"out of memory publishing a recommendation; holding the call's offset\" call=\"%s\"",
			   pmhc_q(key));
		return;
	}
	size_t len = pmhc__v1__recommendation__pack(&s->rec, p->packbuf);
	/* Names this process, so that its own holds reader passes over what it already holds. */
	rd_kafka_headers_t *h = rd_kafka_headers_new(1);
	rd_kafka_header_add(h, PMHC_INSTANCE_HEADER, -1, p->instance, -1);
	send_awaited(p, dv, cfg->topic_recommendations, key, klen, p->packbuf, len, h);
	p->st.recs++;
	if (p->fatal_after > 0 && p->st.recs == p->fatal_after) {
		p->fatal_at_ms = pmhc_mono_ms() + p->fatal_delay_ms;
		if (p->fatal_delay_ms == 0)
			test_fatal(p);
	}
}
