#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "digest.h"
#include "kafka.h"
#include "log.h"
#include "pipeline_int.h"

/* With librdkafka's local queue full, wait this long for deliveries to make room, then try again. */
#define QUEUE_FULL_WAIT_MS 100

/* At exit, what is still queued gets this long to be delivered before it is given up. */
#define EXIT_FLUSH_MS 5000

/* The pmhc-* headers of SPEC section 8: reason, source topic, partition and offset. */
#define DLQ_HEADERS 4

/* Room for any int32_t in decimal (sign, 10 digits, NUL), and any int64_t (sign, 19 digits, NUL). */
#define INT32_TEXT_LEN 12
#define INT64_TEXT_LEN 21

/* What a delivery report needs to find its batch and, for the DLQ, to resend. */
struct delivery {
	struct pmhc_batch *batch;
	bool dlq;
};

/* A DLQ message that did not land goes again, as it was; false when it could not be queued. */
static bool resend_dlq(struct pipeline *p, rd_kafka_t *rk, const rd_kafka_message_t *m, struct delivery *d)
{
	/* A rejected input must reach the DLQ before its offset moves: send it again. */
	rd_kafka_headers_t *h = NULL;
	rd_kafka_message_headers(m, &h);
	rd_kafka_resp_err_t e = rd_kafka_producev(
		rk, RD_KAFKA_V_RKT(m->rkt), RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h ? rd_kafka_headers_copy(h) : NULL),
		RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
	pmhc_warn("msg=\"DLQ delivery failed; sending again\" error=\"%s\" resend=%s", rd_kafka_err2str(m->err),
		  e ? rd_kafka_err2str(e) : "queued");
	p->st.dlq_resent++;
	return e == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct pipeline *p = opaque;
	struct delivery *d = m->_private;
	if (d == NULL)
		return;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && d->dlq && resend_dlq(p, rk, m, d))
		return;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && !d->dlq) {
		p->st.recs_failed++;
		pmhc_error("msg=\"recommendation not delivered\" error=\"%s\"", rd_kafka_err2str(m->err));
	}
	d->batch->undelivered--;
}

int pmhc_outbox_open(struct pipeline *p, char *err, size_t errlen)
{
	p->producer = pmhc_kafka_producer_new(p->cfg, dr_msg_cb, p, err, errlen);
	return p->producer != NULL ? 0 : -1;
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
}

/* Produce, waiting out a full local queue rather than dropping. */
static rd_kafka_resp_err_t produce(struct pipeline *p, const char *topic, const void *key, size_t key_len,
				   const void *val, size_t len, rd_kafka_headers_t *headers, struct delivery *d)
{
	for (;;) {
		rd_kafka_resp_err_t e =
			rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
					  RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					  RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return e;
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

/*
 * Sends one rejected input to the DLQ with the pmhc-* headers of SPEC section 8.
 * Its delivery is awaited with the batch: the offset moves only once it landed.
 */
static bool produce_dlq(struct pipeline *p, struct pmhc_batch *b, const struct pmhc_poison *x, const void *key,
			size_t key_len)
{
	struct delivery *d = pmhc_arena_alloc(&b->arena, sizeof *d);
	if (d == NULL) {
		pmhc_error("msg=\"out of memory sending to the DLQ\" topic=%s partition=%d offset=%lld", x->topic,
			   (int)x->partition, (long long)x->offset);
		return false;
	}
	rd_kafka_headers_t *h = dlq_headers(x->topic, x->partition, x->offset, x->reason);
	*d = (struct delivery){ b, true };
	rd_kafka_resp_err_t e = produce(p, p->cfg->topic_dlq, key, key_len, x->bytes, x->len, h, d);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_headers_destroy(h);
		pmhc_error("msg=\"cannot queue a DLQ message\" error=\"%s\"", rd_kafka_err2str(e));
		return false;
	}
	b->undelivered++;
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
		pmhc_error("msg=\"out of memory recording a rejected event\"");
		return;
	}
	/* The payload as it came: the DLQ copy is the input itself. */
	struct pmhc_poison x = { topic, m->partition, m->offset, reason, m->payload, m->len };
	if (produce_dlq(p, b, &x, m->key, m->key_len))
		pmhc_warn("msg=\"input rejected to the DLQ\" topic=%s partition=%d offset=%lld reason=\"%s\"", topic,
			  (int)m->partition, (long long)m->offset, pmhc_q(reason));
}

void pmhc_outbox_send_poison(struct pipeline *p, struct pmhc_batch *b)
{
	for (size_t i = 0; i < b->n_poison; i++)
		produce_dlq(p, b, &b->poison[i], NULL, 0);
	b->poison_sent = true;
}

/* The recommendation onto its topic, at once; its delivery is awaited with the batch. */
void pmhc_outbox_publish(struct pipeline *p, struct pmhc_batch *b, const struct pmhc_rec_scratch *s, const char *key,
			 size_t klen)
{
	const struct pmhc_config *cfg = p->cfg;
	size_t need = pmhc__v1__recommendation__get_packed_size(&s->rec);
	if (need > p->packcap) {
		uint8_t *nb = realloc(p->packbuf, need);
		if (nb == NULL) {
			pmhc_error("msg=\"out of memory packing a recommendation\" call=\"%s\"", pmhc_q(key));
			return;
		}
		p->packbuf = nb;
		p->packcap = need;
	}
	size_t len = pmhc__v1__recommendation__pack(&s->rec, p->packbuf);
	struct delivery *dv = pmhc_arena_alloc(&b->arena, sizeof *dv);
	if (dv == NULL)
		return;
	*dv = (struct delivery){ b, false };
	/* Names this process, so that its own holds reader passes over what it already holds. */
	rd_kafka_headers_t *h = rd_kafka_headers_new(1);
	rd_kafka_header_add(h, PMHC_INSTANCE_HEADER, -1, p->instance, -1);
	rd_kafka_resp_err_t e = produce(p, cfg->topic_recommendations, key, klen, p->packbuf, len, h, dv);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		b->undelivered++;
		p->st.recs++;
	} else {
		rd_kafka_headers_destroy(h);
		pmhc_error("msg=\"cannot queue a recommendation\" call=%s error=\"%s\"", key, rd_kafka_err2str(e));
	}
}
