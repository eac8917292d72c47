#include "pipeline.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "clock.h"
#include "digest.h"
#include "kafka.h"
#include "log.h"
#include "recommend.h"
#include "revcache.h"
#include "store.h"
#include "subject.h"
#include "units.h"
#include "wire.h"

#define ARENA_CHUNK (256 * 1024)
#define STATS_EVERY_MS 60000
/*
 * A batch PostgreSQL refused for its own reasons is tried again from 200 ms, which
 * rides out a deadlock or a failover without a visible stall, up to every 10 s, which
 * finds a server back soon without flooding its log while it is down.
 */
#define WRITE_RETRY_FIRST_MS 200
#define WRITE_RETRY_CAP_MS 10000


/* The highest offset of one partition seen in a batch. */
struct offset_mark {
	const char *topic;
	int32_t partition;
	int64_t offset;
};

/*
 * A batch: the inputs polled in one window, what they decided, and where to
 * resume. Everything it points to lives in its arena, so a config reload or
 * the next batch cannot pull anything from under the writer.
 */
struct batch {
	struct batch *next;
	struct pmhc_arena arena;
	struct pmhc_call_row *rows;
	size_t n_rows, cap_rows;
	struct pmhc_disposition_row *dispositions;
	size_t n_dispositions, cap_dispositions;
	struct pmhc_rejected_row *rejected;
	size_t n_rejected, cap_rejected;
	struct pmhc_unit_row *units;	/* statuses to record; they move no group offset */
	size_t n_units, cap_units;
	/*
	 * Rows PostgreSQL refused for their data: the writer finds them one by one and
	 * records them as rejected; the main thread then sends them to the DLQ.
	 */
	struct poison *poison;
	size_t n_poison;
	bool poison_sent;
	const char *topic_calls, *topic_dispositions;
	struct offset_mark *marks;
	size_t n_marks, cap_marks;
	size_t n_messages;
	int64_t opened_ms;
	int undelivered;	/* produced messages without a delivery report; main thread only */
	struct pmhc_store_result result;
};

/* What a delivery report needs to find its batch and, for the DLQ, to resend. */
struct poison {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *reason;
	uint8_t *bytes;		/* the message as decoded (and repaired), packed again */
	size_t len;
};

struct delivery {
	struct batch *batch;
	bool dlq;
};

struct queue {
	struct batch *head, *tail;
};

struct writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue todo, done;
	size_t todo_events;
	bool quit;		/* finish the queue, then exit */
	bool abandon;		/* exit after the write in progress */
	bool db_down;
	bool history;		/* backfill: rows most likely new to the tables */
	struct pmhc_store *store;
};

struct stats {
	unsigned long calls, mh, rejected, degraded, stale, written, recs, recs_failed, dlq_resent;
	unsigned long unit_statuses, units_out_of_order, units_rejected, fallbacks, dispositions;
	unsigned long stale_skipped;	/* of stale: caught in memory, never re-published */
};

struct pipeline {
	struct pmhc_config *cfg;
	enum pmhc_mode mode;
	/* Backfill: which assigned partitions have been read to their end. */
	bool *at_end;
	size_t n_at_end_slots, assigned, not_at_end;
	struct pmhc_signals *sig;
	rd_kafka_t *consumer, *producer;
	rd_kafka_t *units_reader;	/* all of cad.units, outside the group */
	struct pmhc_roster *roster;
	struct pmhc_revcache *revisions;	/* what this process already decided */
	struct writer w;
	struct batch *current;
	bool paused;
	size_t backlog_peak;	/* events queued for the writer at most since the last trim */
	struct stats st;
	int64_t last_stats_ms;
	struct pmhc_rec_scratch scratch;
	uint8_t *packbuf;
	size_t packcap;
};

static void queue_push(struct queue *q, struct batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
}

static struct batch *queue_pop(struct queue *q)
{
	struct batch *b = q->head;
	if (b != NULL) {
		q->head = b->next;
		if (q->head == NULL)
			q->tail = NULL;
		b->next = NULL;
	}
	return b;
}

static struct batch *batch_new(const struct pmhc_config *cfg)
{
	struct batch *b = calloc(1, sizeof *b);
	if (b == NULL)
		return NULL;
	pmhc_arena_init(&b->arena, ARENA_CHUNK);
	b->opened_ms = pmhc_mono_ms();
	/* The writer has no config: what it needs to name a refused row travels here. */
	b->topic_calls = pmhc_arena_strdup(&b->arena, cfg->topic_calls);
	b->topic_dispositions = pmhc_arena_strdup(&b->arena, cfg->topic_dispositions);
	if (b->topic_calls == NULL || b->topic_dispositions == NULL) {
		pmhc_arena_destroy(&b->arena);
		free(b);
		return NULL;
	}
	return b;
}

static void batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	pmhc_arena_destroy(&b->arena);
	free(b->rows);
	free(b->dispositions);
	free(b->rejected);
	free(b->units);
	free(b->poison);
	free(b->marks);
	free(b);
}

/* Grows a batch array by doubling; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

static int batch_mark(struct batch *b, const rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	for (size_t i = 0; i < b->n_marks; i++) {
		if (b->marks[i].partition == m->partition && strcmp(b->marks[i].topic, topic) == 0) {
			if (m->offset > b->marks[i].offset)
				b->marks[i].offset = m->offset;
			return 0;
		}
	}
	if (grow((void **)&b->marks, &b->cap_marks, b->n_marks + 1, sizeof *b->marks) != 0)
		return -1;
	char *t = pmhc_arena_strdup(&b->arena, topic);
	if (t == NULL)
		return -1;
	b->marks[b->n_marks++] = (struct offset_mark){ t, m->partition, m->offset };
	return 0;
}

/* ---- the writer thread: batches → PostgreSQL, in order, retrying until done ---- */

/* Records one row PostgreSQL refused; false when out of memory. */
static bool add_poison(struct batch *b, const char *topic, int32_t partition, int64_t offset,
		       const ProtobufCMessage *msg, const char *why, size_t *cap)
{
	if (grow((void **)&b->poison, cap, b->n_poison + 1, sizeof *b->poison) != 0)
		return false;
	struct poison *x = &b->poison[b->n_poison];
	x->len = protobuf_c_message_get_packed_size(msg);
	x->bytes = pmhc_arena_alloc(&b->arena, x->len ? x->len : 1);
	char reason[600];
	snprintf(reason, sizeof reason, "refused by PostgreSQL: %s", why);
	for (char *c = reason; *c; c++)
		if (*c == '\n')
			*c = ' ';
	x->reason = pmhc_arena_strdup(&b->arena, reason);
	if (x->bytes == NULL || x->reason == NULL)
		return false;
	protobuf_c_message_pack(msg, x->bytes);
	x->topic = topic;
	x->partition = partition;
	x->offset = offset;
	b->n_poison++;
	return true;
}

/*
 * PostgreSQL refused the batch for its data, not for a lost connection: write
 * its rows one by one so that one bad row cannot hold back the rest, and record
 * each row it still refuses as rejected. 0 when done; -1 when the connection
 * went meanwhile (the whole batch is tried again later: the writes are
 * idempotent).
 */
static int write_split(struct pmhc_store *store, struct batch *b)
{
	struct pmhc_store_result r;
	size_t cap = 0;
	b->n_poison = 0;
	b->result.applied = b->result.stale = 0;
	for (size_t i = 0; i < b->n_rows; i++) {
		struct pmhc_store_batch one = { .calls = &b->rows[i], .n_calls = 1 };
		if (pmhc_store_write_batch(store, &one, &r) == 0) {
			b->result.applied += r.applied;
			b->result.stale += r.stale;
		} else if (pmhc_store_connection_lost(store)) {
			return -1;
		} else if (!add_poison(b, b->topic_calls, b->rows[i].partition, b->rows[i].offset,
				       &b->rows[i].call->base, pmhc_store_last_error(store), &cap)) {
			return -1;
		}
	}
	for (size_t i = 0; i < b->n_dispositions; i++) {
		struct pmhc_store_batch one = { .dispositions = &b->dispositions[i], .n_dispositions = 1 };
		if (pmhc_store_write_batch(store, &one, &r) == 0)
			continue;
		if (pmhc_store_connection_lost(store) ||
		    !add_poison(b, b->topic_dispositions, b->dispositions[i].partition, b->dispositions[i].offset,
				&b->dispositions[i].disp->base, pmhc_store_last_error(store), &cap))
			return -1;
	}
	for (size_t i = 0; i < b->n_units; i++) {
		struct pmhc_store_batch one = { .units = &b->units[i], .n_units = 1 };
		if (pmhc_store_write_batch(store, &one, &r) == 0)
			continue;
		if (pmhc_store_connection_lost(store))
			return -1;
		/* A status is history only (the roster already has it): say so and go on. */
		pmhc_error("msg=\"unit status refused by PostgreSQL; not recorded\" unit=%s/%s error=\"%s\"",
			   b->units[i].status->psap_id, b->units[i].status->unit_id, pmhc_store_last_error(store));
	}
	/* The batch's own rejections, and the rows just refused, as rejected_events. */
	struct pmhc_rejected_row *rej = pmhc_arena_alloc(&b->arena, (b->n_rejected + b->n_poison + 1) * sizeof *rej);
	if (rej == NULL)
		return -1;
	memcpy(rej, b->rejected, b->n_rejected * sizeof *rej);
	for (size_t i = 0; i < b->n_poison; i++) {
		const struct poison *x = &b->poison[i];
		struct pmhc_rejected_row *row = &rej[b->n_rejected + i];
		*row = (struct pmhc_rejected_row){ x->topic, x->partition, x->offset, x->reason, x->len, { 0 } };
		pmhc_sha256(x->bytes, x->len, row->payload_sha256);
		pmhc_error("msg=\"row refused by PostgreSQL; sent to the DLQ instead\" topic=%s partition=%d offset=%lld "
			   "reason=\"%s\"", x->topic, (int)x->partition, (long long)x->offset, x->reason);
	}
	struct pmhc_store_batch rb = { .rejected = rej, .n_rejected = b->n_rejected + b->n_poison };
	if (pmhc_store_write_batch(store, &rb, &r) != 0) {
		if (!pmhc_store_connection_lost(store))
			pmhc_error("msg=\"rejected events refused by PostgreSQL; their DLQ copies stand alone\" "
				   "error=\"%s\"", pmhc_store_last_error(store));
		return pmhc_store_connection_lost(store) ? -1 : 0;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	long backoff_ms = WRITE_RETRY_FIRST_MS;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->todo.head == NULL && !w->quit && !w->abandon)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->abandon || (w->todo.head == NULL && w->quit))
			break;
		struct batch *b = w->todo.head;
		pthread_mutex_unlock(&w->mu);

		struct pmhc_store_batch sb = {
			b->rows, b->n_rows, b->dispositions, b->n_dispositions, b->rejected, b->n_rejected,
			b->units, b->n_units, w->history,
		};
		int rc = pmhc_store_write_batch(w->store, &sb, &b->result);
		if (rc != 0 && !pmhc_store_connection_lost(w->store))
			rc = write_split(w->store, b);

		pthread_mutex_lock(&w->mu);
		if (rc == 0) {
			if (w->db_down)
				pmhc_info("msg=\"PostgreSQL back; catching up\" backlog_events=%zu", w->todo_events);
			w->db_down = false;
			backoff_ms = WRITE_RETRY_FIRST_MS;
			queue_pop(&w->todo);
			w->todo_events -= b->n_messages;
			queue_push(&w->done, b);
			continue;
		}
		if (!w->db_down)
			pmhc_warn("msg=\"PostgreSQL write failed; decisions continue from memory, retrying\" "
				  "backlog_events=%zu", w->todo_events);
		w->db_down = true;
		/* Capped backoff; a shutdown or abandon wakes it early. */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += backoff_ms / 1000;
		until.tv_nsec += (backoff_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!w->abandon)
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
		backoff_ms = pmhc_backoff_next(backoff_ms, WRITE_RETRY_CAP_MS);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void writer_submit(struct writer *w, struct batch *b)
{
	pthread_mutex_lock(&w->mu);
	queue_push(&w->todo, b);
	w->todo_events += b->n_messages;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* ---- producing: recommendations and the DLQ ---- */

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct pipeline *p = opaque;
	struct delivery *d = m->_private;
	if (d == NULL)
		return;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && d->dlq) {
		/* A rejected input must reach the DLQ before its offset moves: send it again. */
		rd_kafka_headers_t *h = NULL;
		rd_kafka_message_headers(m, &h);
		rd_kafka_resp_err_t e = rd_kafka_producev(
			rk, RD_KAFKA_V_RKT(m->rkt), RD_KAFKA_V_KEY(m->key, m->key_len),
			RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_HEADERS(h ? rd_kafka_headers_copy(h) : NULL), RD_KAFKA_V_OPAQUE(d),
			RD_KAFKA_V_END);
		pmhc_warn("msg=\"DLQ delivery failed; sending again\" error=\"%s\" resend=%s",
			  rd_kafka_err2str(m->err), e ? rd_kafka_err2str(e) : "queued");
		p->st.dlq_resent++;
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return;
	}
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && !d->dlq) {
		p->st.recs_failed++;
		pmhc_error("msg=\"recommendation not delivered\" error=\"%s\"", rd_kafka_err2str(m->err));
	}
	d->batch->undelivered--;
}

/* Produce, waiting out a full local queue rather than dropping. */
static rd_kafka_resp_err_t produce(struct pipeline *p, const char *topic, const void *key,
				   size_t key_len, const void *val, size_t len,
				   rd_kafka_headers_t *headers, struct delivery *d)
{
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			p->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
			RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return e;
		rd_kafka_poll(p->producer, 100);
	}
}

/*
 * Sends one rejected input to the DLQ with the pmhc-* headers of SPEC section 8.
 * Its delivery is awaited with the batch: the offset moves only once it landed.
 */
static bool produce_dlq(struct pipeline *p, struct batch *b, const char *topic, int32_t partition,
			int64_t offset, const void *key, size_t key_len, const void *payload, size_t len,
			const char *reason)
{
	struct delivery *d = pmhc_arena_alloc(&b->arena, sizeof *d);
	if (d == NULL) {
		pmhc_error("msg=\"out of memory sending to the DLQ\" topic=%s partition=%d offset=%lld", topic,
			   (int)partition, (long long)offset);
		return false;
	}
	char part[16], off[24];
	snprintf(part, sizeof part, "%d", (int)partition);
	snprintf(off, sizeof off, "%lld", (long long)offset);
	rd_kafka_headers_t *h = rd_kafka_headers_new(4);
	rd_kafka_header_add(h, "pmhc-reason", -1, reason, -1);
	rd_kafka_header_add(h, "pmhc-source-topic", -1, topic, -1);
	rd_kafka_header_add(h, "pmhc-source-partition", -1, part, -1);
	rd_kafka_header_add(h, "pmhc-source-offset", -1, off, -1);
	*d = (struct delivery){ b, true };
	rd_kafka_resp_err_t e = produce(p, p->cfg->topic_dlq, key, key_len, payload, len, h, d);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_headers_destroy(h);
		pmhc_error("msg=\"cannot queue a DLQ message\" error=\"%s\"", rd_kafka_err2str(e));
		return false;
	}
	b->undelivered++;
	p->st.rejected++;
	return true;
}

static void send_to_dlq(struct pipeline *p, struct batch *b, const rd_kafka_message_t *m,
			const char *reason)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	struct pmhc_rejected_row *r;
	if (grow((void **)&b->rejected, &b->cap_rejected, b->n_rejected + 1, sizeof *r) != 0) {
		pmhc_error("msg=\"out of memory recording a rejected event\"");
		return;
	}
	r = &b->rejected[b->n_rejected++];
	r->topic = pmhc_arena_strdup(&b->arena, topic);
	r->partition = m->partition;
	r->offset = m->offset;
	r->reason = pmhc_arena_strdup(&b->arena, reason);
	r->size = m->len;
	pmhc_sha256(m->payload ? m->payload : "", m->len, r->payload_sha256);

	if (produce_dlq(p, b, topic, m->partition, m->offset, m->key, m->key_len, m->payload, m->len, reason))
		pmhc_warn("msg=\"input rejected to the DLQ\" topic=%s partition=%d offset=%lld reason=\"%s\"", topic,
			  (int)m->partition, (long long)m->offset, reason);
}

/* When an input arrived: its Kafka timestamp, or now when the broker gave none. */
static int64_t arrival_ms(const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t type;
	int64_t ts = rd_kafka_message_timestamp(m, &type);
	return type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts > 0 ? ts : pmhc_wall_ms();
}

/* Copies a string into the batch arena; "" when out of memory (logged by caller's counts). */
static char *keep(struct batch *b, const char *s)
{
	char *c = pmhc_arena_strdup(&b->arena, s);
	return c ? c : (char *)"";
}

/* The recommendation onto its topic, at once; its delivery is awaited with the batch. */
static void publish(struct pipeline *p, struct batch *b, struct pmhc_rec_scratch *s, const char *key,
		    size_t klen)
{
	const struct pmhc_config *cfg = p->cfg;
	size_t need = pmhc__v1__recommendation__get_packed_size(&s->rec);
	if (need > p->packcap) {
		uint8_t *nb = realloc(p->packbuf, need);
		if (nb == NULL) {
			pmhc_error("msg=\"out of memory packing a recommendation\" call=%s", key);
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
	rd_kafka_resp_err_t e = produce(p, cfg->topic_recommendations, key, klen, p->packbuf, len, NULL, dv);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		b->undelivered++;
		p->st.recs++;
	} else {
		pmhc_error("msg=\"cannot queue a recommendation\" call=%s error=\"%s\"", key, rd_kafka_err2str(e));
	}
}

static void handle_call(struct pipeline *p, struct batch *b, const rd_kafka_message_t *m)
{
	const struct pmhc_config *cfg = p->cfg;
	int64_t now = pmhc_wall_ms();
	int64_t arrival = arrival_ms(m);

	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *call = pmhc_wire_call(m->payload, m->len, (size_t)cfg->max_message_bytes,
						   arrival, &b->arena.pb, &rep);
	if (call == NULL) {
		send_to_dlq(p, b, m, rep.reason);
		return;
	}
	if (rep.status == PMHC_WIRE_DEGRADED) {
		p->st.degraded++;
		pmhc_warn("msg=\"input degraded but routed\" call=%s/%s partition=%d offset=%lld reason=\"%s\"",
			  call->psap_id, call->call_id, (int)m->partition, (long long)m->offset, rep.reason);
	}

	/* A replay or a stale duplicate: decided already, so nothing to publish or store. */
	if (pmhc_revcache_stale(p->revisions, call->psap_id, call->call_id, call->revision)) {
		p->st.stale++;
		p->st.stale_skipped++;
		pmhc_debug("msg=\"stale revision skipped\" call=%s/%s revision=%u", call->psap_id, call->call_id,
			   call->revision);
		return;
	}

	struct pmhc_decision d;
	pmhc_decide(cfg->rules, call, &d);
	struct pmhc_choice choice = { .n = 0, .fallback_used = false };
	bool live = p->mode == PMHC_MODE_LIVE;
	if (live)
		pmhc_units_choose(p->roster, &cfg->rules->units, call, d.rule->response, now, &choice);
	struct pmhc_rec_scratch *s = &p->scratch;
	pmhc_recommend(cfg->rules, call, &d, &choice, now, s);
	char key[2 * PMHC_ID_MAX + 2];
	int klen = snprintf(key, sizeof key, "%s/%s", call->psap_id, call->call_id);
	if (live)
		publish(p, b, s, key, (size_t)klen);

	if (grow((void **)&b->rows, &b->cap_rows, b->n_rows + 1, sizeof *b->rows) != 0) {
		pmhc_error("msg=\"out of memory batching a call\" call=%s", key);
		return;
	}
	struct pmhc_call_row *row = &b->rows[b->n_rows++];
	memset(row, 0, sizeof *row);
	row->call = call;
	row->nature_mapped = keep(b, d.screening.nature_mapped);
	row->flags = d.screening.flags;
	row->mental_health_call = d.mental_health_call;
	row->rule_id = keep(b, d.rule->id);
	row->response = d.rule->response;
	row->dispatch_code = keep(b, d.rule->dispatch_code);
	row->rules_version = keep(b, cfg->rules->version);
	row->decided_at_ms = now;
	/* The database keeps every reason, whatever the sharing policy withholds from dispatch. */
	row->reasons = pmhc_arena_alloc(&b->arena, (d.screening.n_reasons + 1) * sizeof(char *));
	if (row->reasons != NULL) {
		for (size_t i = 0; i < d.screening.n_reasons; i++) {
			char text[PMHC_REASON_LEN];
			pmhc_reason_format(&d.screening.reasons[i], &d.screening, call, text, sizeof text);
			row->reasons[row->n_reasons++] = keep(b, text);
		}
	}
	row->summary = keep(b, s->summary);
	row->unit_ids = pmhc_arena_alloc(&b->arena, (PMHC_NEEDS_MAX + 1) * sizeof(char *));
	if (row->unit_ids != NULL)
		for (size_t i = 0; i < s->rec.n_unit_ids; i++)
			row->unit_ids[row->n_unit_ids++] = keep(b, s->rec.unit_ids[i]);
	row->fallback_used = choice.fallback_used;
	if (choice.fallback_used)
		p->st.fallbacks++;
	if (call->subject_key[0] != '\0')
		row->has_subject_hash = pmhc_subject_hash(cfg->subject_key, cfg->subject_key_len,
							  call->subject_key, row->subject_hash) == 0;
	row->store_narrative = cfg->store_narrative;
	row->backfilled = p->mode == PMHC_MODE_BACKFILL;
	row->partition = m->partition;
	row->offset = m->offset;

	pmhc_revcache_note(p->revisions, call->psap_id, call->call_id, call->revision);
	p->st.calls++;
	if (d.mental_health_call)
		p->st.mh++;
	pmhc_debug("msg=\"decided\" call=%s revision=%u rule=%s response=%s units=%zu fallback=%s", key,
		   call->revision, d.rule->id, pmhc_response_name(d.rule->response), s->rec.n_unit_ids,
		   choice.fallback_used ? "yes" : "no");
}

static void handle_disposition(struct pipeline *p, struct batch *b, const rd_kafka_message_t *m)
{
	struct pmhc_wire_report rep;
	Pmhc__V1__Disposition *d = (Pmhc__V1__Disposition *)pmhc_wire_decode(
		&pmhc__v1__disposition__descriptor, m->payload, m->len, (size_t)p->cfg->max_message_bytes,
		arrival_ms(m), &b->arena.pb, &rep);
	if (d == NULL) {
		send_to_dlq(p, b, m, rep.reason);
		return;
	}
	if (rep.status == PMHC_WIRE_DEGRADED) {
		p->st.degraded++;
		pmhc_warn("msg=\"disposition degraded but stored\" call=%s/%s reason=\"%s\"", d->psap_id, d->call_id,
			  rep.reason);
	}
	/* The call is closed: its units are no longer spoken for. */
	pmhc_roster_release_call(p->roster, d->psap_id, d->call_id);
	if (grow((void **)&b->dispositions, &b->cap_dispositions, b->n_dispositions + 1,
		 sizeof *b->dispositions) != 0) {
		pmhc_error("msg=\"out of memory batching a disposition\" call=%s/%s", d->psap_id, d->call_id);
		return;
	}
	b->dispositions[b->n_dispositions++] =
		(struct pmhc_disposition_row){ d, p->mode == PMHC_MODE_BACKFILL, m->partition, m->offset };
	p->st.dispositions++;
}

/*
 * One unit status into the roster. Every instance reads every status, so a bad
 * one is logged and counted here, not sent to the DLQ once per instance.
 */
static void seal(struct pipeline *p);

/* Backfill trades latency, which nobody waits on, for large COPY batches. */
static size_t batch_limit(const struct pipeline *p)
{
	size_t n = (size_t)p->cfg->batch_max_events;
	return p->mode == PMHC_MODE_BACKFILL && n < 20000 ? 20000 : n;
}

static int64_t batch_age_limit(const struct pipeline *p)
{
	int64_t ms = p->cfg->batch_max_ms;
	return p->mode == PMHC_MODE_BACKFILL && ms < 1000 ? 1000 : ms;
}

/* A batch counts unit statuses too: they are rows to write, just no group offsets. */
static size_t batch_size(const struct batch *b)
{
	return b->n_messages + b->n_units;
}

static void apply_unit(struct pipeline *p, const rd_kafka_message_t *m)
{
	if (m->err) {
		pmhc_error("msg=\"units reader error\" error=\"%s\"", rd_kafka_message_errstr(m));
		return;
	}
	if (p->current == NULL && (p->current = batch_new(p->cfg)) == NULL) {
		pmhc_error("msg=\"out of memory opening a batch\"");
		return;
	}
	struct batch *b = p->current;
	struct pmhc_wire_report rep;
	Pmhc__V1__UnitStatus *st = (Pmhc__V1__UnitStatus *)pmhc_wire_decode(
		&pmhc__v1__unit_status__descriptor, m->payload, m->len, (size_t)p->cfg->max_message_bytes,
		arrival_ms(m), &b->arena.pb, &rep);
	if (st == NULL) {
		p->st.units_rejected++;
		pmhc_warn("msg=\"unit status ignored\" partition=%d offset=%lld reason=\"%s\"", (int)m->partition,
			  (long long)m->offset, rep.reason);
		return;
	}
	if (rep.status == PMHC_WIRE_DEGRADED)
		pmhc_warn("msg=\"unit status degraded but used\" unit=%s/%s reason=\"%s\"", st->psap_id, st->unit_id,
			  rep.reason);
	int rc = pmhc_roster_apply(p->roster, st);
	if (rc < 0)
		pmhc_error("msg=\"out of memory applying a unit status\" unit=%s/%s", st->psap_id, st->unit_id);
	p->st.unit_statuses++;
	if (rc == 0)
		p->st.units_out_of_order++;
	if (grow((void **)&b->units, &b->cap_units, b->n_units + 1, sizeof *b->units) != 0) {
		pmhc_error("msg=\"out of memory batching a unit status\" unit=%s/%s", st->psap_id, st->unit_id);
		return;
	}
	b->units[b->n_units++] = (struct pmhc_unit_row){ st };
	if (batch_size(b) >= batch_limit(p))
		seal(p);
}

/* Applies what the units reader has, without waiting; bounded so calls are never starved. */
static void drain_units(struct pipeline *p, int max)
{
	rd_kafka_message_t *m;
	for (int i = 0; i < max && (m = rd_kafka_consumer_poll(p->units_reader, 0)) != NULL; i++) {
		apply_unit(p, m);
		rd_kafka_message_destroy(m);
	}
}

/* Reads cad.units up to where it ended at start, so no call is decided on a partial roster. */
static int rebuild_roster(struct pipeline *p)
{
	char err[512];
	int64_t t0 = pmhc_mono_ms(), limit = t0 + (int64_t)p->cfg->pg_start_timeout_s * 1000;
	rd_kafka_topic_partition_list_t *end = NULL;
	while (end == NULL) {
		end = pmhc_kafka_end_offsets(p->units_reader, 5000, err, sizeof err);
		if (end == NULL && (pmhc_mono_ms() >= limit || p->sig->stop)) {
			pmhc_error("msg=\"Kafka unreachable: cannot read %s\" error=\"%s\"", p->cfg->topic_units, err);
			return -1;
		}
	}
	for (;;) {
		bool behind = false;
		for (int i = 0; i < end->cnt && !behind; i++) {
			rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
			rd_kafka_topic_partition_list_add(pos, end->elems[i].topic, end->elems[i].partition);
			rd_kafka_position(p->units_reader, pos);
			int64_t at = pos->elems[0].offset;
			rd_kafka_topic_partition_list_destroy(pos);
			behind = end->elems[i].offset > 0 && (at < 0 || at < end->elems[i].offset);
		}
		if (!behind || p->sig->stop)
			break;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(p->units_reader, 100);
		if (m != NULL) {
			apply_unit(p, m);
			rd_kafka_message_destroy(m);
		}
	}
	rd_kafka_topic_partition_list_destroy(end);
	pmhc_info("msg=\"unit roster rebuilt from %s\" units=%zu statuses=%lu took_ms=%lld", p->cfg->topic_units,
		  pmhc_roster_size(p->roster), p->st.unit_statuses, (long long)(pmhc_mono_ms() - t0));
	return 0;
}

/* Backfill: whether each assigned partition of the history topic has been read to its end. */
static void mark_end(struct pipeline *p, int32_t partition, bool at_end)
{
	if (p->mode != PMHC_MODE_BACKFILL || partition < 0 || (size_t)partition >= p->n_at_end_slots)
		return;
	if (p->at_end[partition] != at_end) {
		p->at_end[partition] = at_end;
		if (at_end)
			p->not_at_end--;
		else
			p->not_at_end++;
	}
}

/* History carries calls and dispositions on one topic, told apart by a header. */
static void handle_history(struct pipeline *p, struct batch *b, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h = NULL;
	const void *val = NULL;
	size_t len = 0;
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_header_get_last(h, "pmhc-type", &val, &len);
	if (val != NULL && len == 4 && memcmp(val, "call", 4) == 0)
		handle_call(p, b, m);
	else if (val != NULL && len == 11 && memcmp(val, "disposition", 11) == 0)
		handle_disposition(p, b, m);
	else
		send_to_dlq(p, b, m, "history message without a pmhc-type header of call or disposition");
}

static void handle_message(struct pipeline *p, const rd_kafka_message_t *m)
{
	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			mark_end(p, m->partition, true);
			return;
		}
		pmhc_error("msg=\"consumer error\" topic=%s error=\"%s\"", m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
			   rd_kafka_message_errstr(m));
		return;
	}
	if (p->current == NULL && (p->current = batch_new(p->cfg)) == NULL) {
		pmhc_error("msg=\"out of memory opening a batch\"");
		return;
	}
	struct batch *b = p->current;
	if (p->mode == PMHC_MODE_BACKFILL)
		handle_history(p, b, m);
	else if (strcmp(rd_kafka_topic_name(m->rkt), p->cfg->topic_dispositions) == 0)
		handle_disposition(p, b, m);
	else
		handle_call(p, b, m);
	b->n_messages++;
	mark_end(p, m->partition, false);
	if (batch_mark(b, m) != 0)
		pmhc_error("msg=\"out of memory tracking offsets\"");
}

/* ---- completing batches: offsets move only past what is durable ---- */


static void seal(struct pipeline *p)
{
	if (p->current != NULL && batch_size(p->current) > 0) {
		writer_submit(&p->w, p->current);
		p->current = NULL;
	}
}

static void store_offsets(struct pipeline *p, struct batch *b)
{
	if (b->n_marks == 0)
		return;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)b->n_marks);
	for (size_t i = 0; i < b->n_marks; i++)
		rd_kafka_topic_partition_list_add(list, b->marks[i].topic, b->marks[i].partition)->offset =
			b->marks[i].offset + 1;	/* the stored offset is the next message to read */
	rd_kafka_resp_err_t e = rd_kafka_offsets_store(p->consumer, list);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		pmhc_debug("msg=\"offsets not stored (partition revoked meanwhile?)\" error=\"%s\"",
			   rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_destroy(list);
}

/* Rows PostgreSQL refused go to the DLQ like any rejected input, before the offsets move. */
static void send_poison(struct pipeline *p, struct batch *b)
{
	for (size_t i = 0; i < b->n_poison; i++) {
		const struct poison *x = &b->poison[i];
		produce_dlq(p, b, x->topic, x->partition, x->offset, NULL, 0, x->bytes, x->len, x->reason);
	}
	b->poison_sent = true;
}

/* Finishes written batches in order, as far as their messages are delivered. */
static void reap(struct pipeline *p)
{
	rd_kafka_poll(p->producer, 0);
	for (;;) {
		pthread_mutex_lock(&p->w.mu);
		struct batch *b = p->w.done.head;
		if (b != NULL && b->n_poison > 0 && !b->poison_sent) {
			pthread_mutex_unlock(&p->w.mu);
			send_poison(p, b);
			continue;
		}
		if (b != NULL && b->undelivered <= 0)
			queue_pop(&p->w.done);
		else
			b = NULL;
		pthread_mutex_unlock(&p->w.mu);
		if (b == NULL)
			return;
		store_offsets(p, b);
		p->st.written += b->result.applied;
		p->st.stale += b->result.stale;
		if (b->result.stale)
			pmhc_info("msg=\"stale revisions ignored\" count=%zu", b->result.stale);
		batch_free(b);
	}
}

static bool drained(struct pipeline *p)
{
	pthread_mutex_lock(&p->w.mu);
	bool empty = p->w.todo.head == NULL && p->w.done.head == NULL;
	pthread_mutex_unlock(&p->w.mu);
	return empty;
}

/*
 * A backlog (an outage, a burst) holds its batches in memory until written;
 * freed, that memory stays with malloc unless handed back. Once a large one is
 * written, it goes back to the system, so the daemon's size after the night's
 * outage is its size before it.
 */
#define TRIM_AFTER_BACKLOG 10000

static void trim_after_backlog(struct pipeline *p)
{
	/* Backfill is all backlog: trimming after each batch would only make the next fault it back in. */
	if (p->mode == PMHC_MODE_BACKFILL || p->backlog_peak < TRIM_AFTER_BACKLOG || !drained(p))
		return;
	p->backlog_peak = 0;
	malloc_trim(0);
}

/* Seals and waits until every batch is durable and reaped, or timeout_ms passes. */
static bool drain(struct pipeline *p, int64_t timeout_ms)
{
	seal(p);
	int64_t until = pmhc_mono_ms() + timeout_ms;
	for (;;) {
		reap(p);
		if (drained(p))
			return true;
		if (pmhc_mono_ms() >= until)
			return false;
		rd_kafka_poll(p->producer, 20);
	}
}

/* Backpressure: past the backlog bound, stop reading until the database catches up. */
static void pace(struct pipeline *p)
{
	pthread_mutex_lock(&p->w.mu);
	size_t backlog = p->w.todo_events;
	pthread_mutex_unlock(&p->w.mu);
	if (backlog > p->backlog_peak)
		p->backlog_peak = backlog;
	bool over = backlog >= (size_t)p->cfg->backlog_max_events;
	bool under = backlog <= (size_t)p->cfg->backlog_max_events / 2;
	if (!p->paused && over) {
		rd_kafka_topic_partition_list_t *a = NULL;
		if (rd_kafka_assignment(p->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			rd_kafka_pause_partitions(p->consumer, a);
			rd_kafka_topic_partition_list_destroy(a);
		}
		p->paused = true;
		pmhc_warn("msg=\"backlog full; consumption paused until PostgreSQL catches up\" backlog_events=%zu",
			  backlog);
	} else if (p->paused && under) {
		rd_kafka_topic_partition_list_t *a = NULL;
		if (rd_kafka_assignment(p->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			rd_kafka_resume_partitions(p->consumer, a);
			rd_kafka_topic_partition_list_destroy(a);
		}
		p->paused = false;
		pmhc_info("msg=\"consumption resumed\" backlog_events=%zu", backlog);
	}
}

/* Backfill: a fresh assignment starts with nothing read to its end. */
static void track_assigned(struct pipeline *p, const rd_kafka_topic_partition_list_t *parts)
{
	int32_t max = -1;
	for (int i = 0; i < parts->cnt; i++)
		if (parts->elems[i].partition > max)
			max = parts->elems[i].partition;
	bool *slots = calloc((size_t)max + 2, sizeof *slots);
	if (slots == NULL) {
		pmhc_error("msg=\"out of memory tracking partitions\"");
		return;
	}
	free(p->at_end);
	p->at_end = slots;
	p->n_at_end_slots = (size_t)max + 1;
	p->assigned = (size_t)parts->cnt;
	p->not_at_end = (size_t)parts->cnt;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct pipeline *p = opaque;
	bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		pmhc_info("msg=\"partitions assigned\" count=%d", parts->cnt);
		if (p->mode == PMHC_MODE_BACKFILL)
			track_assigned(p, parts);
		if (coop)
			rd_kafka_incremental_assign(rk, parts);
		else
			rd_kafka_assign(rk, parts);
		if (p->paused) {
			rd_kafka_pause_partitions(rk, parts);
		}
		return;
	}
	if (p->mode == PMHC_MODE_BACKFILL)
		p->assigned = p->not_at_end = 0;
	/* Revoked: finish what we hold for these partitions and commit, so the next owner resumes after it. */
	bool done = drain(p, (int64_t)p->cfg->shutdown_timeout_s * 1000);
	rd_kafka_resp_err_t e = rd_kafka_commit(rk, NULL, 0);
	pmhc_info("msg=\"partitions revoked\" count=%d drained=%s commit=\"%s\"", parts->cnt,
		  done ? "yes" : "no (the next owner replays the rest)",
		  e == RD_KAFKA_RESP_ERR__NO_OFFSET ? "nothing new" : rd_kafka_err2str(e));
	if (coop)
		rd_kafka_incremental_unassign(rk, parts);
	else
		rd_kafka_assign(rk, NULL);
}

static void log_stats(struct pipeline *p, const char *why)
{
	pthread_mutex_lock(&p->w.mu);
	size_t backlog = p->w.todo_events;
	bool down = p->w.db_down;
	pthread_mutex_unlock(&p->w.mu);
	pmhc_info("msg=\"%s\" calls=%lu mh=%lu rejected=%lu dlq_resent=%lu degraded=%lu stale=%lu "
		  "stale_skipped_in_memory=%lu stored=%lu recommendations=%lu recommendations_failed=%lu "
		  "fallbacks=%lu dispositions=%lu units=%zu unit_statuses=%lu unit_statuses_out_of_order=%lu "
		  "unit_statuses_rejected=%lu backlog_events=%zu db=%s paused=%s",
		  why, p->st.calls, p->st.mh, p->st.rejected, p->st.dlq_resent, p->st.degraded, p->st.stale,
		  p->st.stale_skipped, p->st.written, p->st.recs, p->st.recs_failed, p->st.fallbacks,
		  p->st.dispositions, pmhc_roster_size(p->roster), p->st.unit_statuses, p->st.units_out_of_order,
		  p->st.units_rejected, backlog, down ? "down" : "up", p->paused ? "yes" : "no");
}

static void reload(struct pipeline *p)
{
	struct pmhc_errlist errs = { 0 };
	struct pmhc_config *next = pmhc_config_load(p->cfg->path, 0, &errs);
	if (next == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			pmhc_error("msg=\"config refused on reload\" problem=\"%s\"", errs.lines[i]);
		pmhc_error("msg=\"reload refused; keeping the running configuration\" rules_version=%s",
			   p->cfg->rules->version);
		pmhc_errlist_clear(&errs);
		return;
	}
	char changed[512];
	if (pmhc_config_restart_needed(p->cfg, next, changed, sizeof changed) > 0)
		pmhc_warn("msg=\"these settings changed but take effect only after a restart\" settings=%s", changed);
	enum pmhc_log_level lvl;
	if (pmhc_log_level_parse(next->log_level, &lvl) == 0)
		pmhc_log_set_level(lvl);
	pmhc_info("msg=\"configuration reloaded\" rules_version=%s previous=%s", next->rules->version,
		  p->cfg->rules->version);
	/* Batches copied what they need from the old config: it can go now. */
	pmhc_config_free(p->cfg);
	p->cfg = next;
}

int pmhc_pipeline_run(struct pmhc_config *cfg, struct pmhc_signals *sig, enum pmhc_mode mode)
{
	struct pipeline *p = calloc(1, sizeof *p);
	int rc = 70;
	char err[512];
	if (p == NULL) {
		pmhc_config_free(cfg);
		return 70;
	}
	p->cfg = cfg;
	p->sig = sig;
	p->mode = mode;
	pthread_mutex_init(&p->w.mu, NULL);
	pthread_cond_init(&p->w.cv, NULL);

	p->w.history = p->mode == PMHC_MODE_BACKFILL;
	p->w.store = pmhc_store_open(cfg->pg_conninfo, cfg->pg_start_timeout_s, &sig->stop);
	if (p->w.store == NULL) {
		rc = sig->stop ? 0 : 69;
		goto out;
	}
	if (pmhc_store_migrate(p->w.store) != 0) {
		pmhc_error("msg=\"cannot bring the schema up to date; not starting\"");
		rc = 69;
		goto out;
	}

	/* 2^20 calls: a day or more of a large center, 12 MB. */
	p->revisions = pmhc_revcache_new(1u << 20);
	p->roster = p->revisions ? pmhc_roster_new() : NULL;
	bool live = mode == PMHC_MODE_LIVE;
	/* Backfill chooses no units: no roster to read. */
	p->units_reader = p->roster && live ? pmhc_kafka_reader_new(cfg, cfg->topic_units,
								     cfg->pg_start_timeout_s * 1000, err, sizeof err)
				    : NULL;
	if (live && p->units_reader == NULL) {
		pmhc_error("msg=\"Kafka unreachable at start\" error=\"%s\" hint=\"check kafka.brokers and that %s exists\"",
			   p->roster ? err : "out of memory", cfg->topic_units);
		rc = 69;
		goto out;
	}
	if (live && rebuild_roster(p) != 0) {
		rc = 69;
		goto out;
	}
	p->producer = pmhc_kafka_producer_new(cfg, dr_msg_cb, p, err, sizeof err);
	/* Backfill reads history in a group of its own, so it never takes live partitions. */
	char group[256];
	snprintf(group, sizeof group, "%s%s", cfg->kafka_group_id, live ? "" : "-backfill");
	p->consumer = p->producer ? pmhc_kafka_consumer_new(cfg, group, !live, rebalance_cb, p, err, sizeof err)
				  : NULL;
	if (p->consumer == NULL) {
		pmhc_error("msg=\"%s\"", err);
		rc = 78;
		goto out;
	}
	/* One group for both: a call and its disposition, keyed alike, meet on one instance. */
	const char *live_topics[] = { cfg->topic_calls, cfg->topic_dispositions };
	const char *history_topics[] = { cfg->topic_history };
	if (pmhc_kafka_subscribe(p->consumer, live ? live_topics : history_topics, live ? 2 : 1, err,
				 sizeof err) != 0) {
		pmhc_error("msg=\"%s\"", err);
		goto out;
	}
	if (pthread_create(&p->w.thread, NULL, writer_main, &p->w) != 0) {
		pmhc_error("msg=\"cannot start the writer thread\" error=\"%s\"", strerror(errno));
		goto out;
	}
	if (live)
		pmhc_info("msg=\"pmhcd running\" group=%s calls_topic=%s recommendations_topic=%s rules_version=%s",
			  group, cfg->topic_calls, cfg->topic_recommendations, cfg->rules->version);
	else
		pmhc_info("msg=\"backfill running\" group=%s history_topic=%s rules_version=%s", group,
			  cfg->topic_history, cfg->rules->version);
	int64_t started = pmhc_mono_ms();

	p->last_stats_ms = pmhc_mono_ms();
	while (!sig->stop) {
		if (sig->reload) {
			sig->reload = 0;
			reload(p);
		}
		if (live)
			drain_units(p, 1000);
		rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 10);
		if (m != NULL) {
			handle_message(p, m);
			rd_kafka_message_destroy(m);
		}
		rd_kafka_poll(p->producer, 0);
		struct batch *b = p->current;
		if (b != NULL && batch_size(b) > 0 &&
		    (batch_size(b) >= batch_limit(p) || pmhc_mono_ms() - b->opened_ms >= batch_age_limit(p)))
			seal(p);
		reap(p);
		pace(p);
		trim_after_backlog(p);
		/* Backfill is done when every partition was read to its end and all of it is durable. */
		if (!live && p->assigned > 0 && p->not_at_end == 0 && (p->current == NULL || batch_size(p->current) == 0) &&
		    drained(p)) {
			pmhc_info("msg=\"backfill caught up with every partition\" calls=%lu dispositions=%lu took_s=%.1f",
				  p->st.calls, p->st.dispositions, (double)(pmhc_mono_ms() - started) / 1000.0);
			break;
		}
		if (!live && p->assigned > 0 && p->not_at_end == 0)
			seal(p);	/* nothing more is coming: do not wait out the batch age */
		if (pmhc_mono_ms() - p->last_stats_ms >= STATS_EVERY_MS) {
			log_stats(p, "stats");
			p->last_stats_ms = pmhc_mono_ms();
		}
	}

	pmhc_info("msg=\"stopping: finishing the batch in flight\"");
	bool clean = drain(p, (int64_t)p->cfg->shutdown_timeout_s * 1000);
	if (!clean)
		pmhc_warn("msg=\"PostgreSQL did not take the last batches in time; their offsets stay uncommitted "
			  "and they will be replayed on restart\"");
	pthread_mutex_lock(&p->w.mu);
	p->w.quit = true;
	p->w.abandon = !clean;
	pthread_cond_signal(&p->w.cv);
	pthread_mutex_unlock(&p->w.mu);
	pthread_join(p->w.thread, NULL);
	rd_kafka_resp_err_t e = rd_kafka_commit(p->consumer, NULL, 0);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
		pmhc_warn("msg=\"final offset commit failed; the last inputs will be replayed\" error=\"%s\"",
			  rd_kafka_err2str(e));
	rd_kafka_consumer_close(p->consumer);
	log_stats(p, "stopped");
	rc = 0;
out:
	if (p->consumer != NULL)
		rd_kafka_destroy(p->consumer);
	if (p->units_reader != NULL) {
		rd_kafka_consumer_close(p->units_reader);
		rd_kafka_destroy(p->units_reader);
	}
	pmhc_roster_free(p->roster);
	pmhc_revcache_free(p->revisions);
	free(p->at_end);
	if (p->producer != NULL) {
		if (rd_kafka_flush(p->producer, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
			pmhc_warn("msg=\"some recommendations were still unsent at exit\" count=%d",
				  rd_kafka_outq_len(p->producer));
		rd_kafka_destroy(p->producer);
	}
	/* Batches never written keep their offsets uncommitted: replayed on restart. */
	batch_free(p->current);
	for (struct batch *b; (b = queue_pop(&p->w.todo)) != NULL;)
		batch_free(b);
	for (struct batch *b; (b = queue_pop(&p->w.done)) != NULL;)
		batch_free(b);
	pmhc_store_close(p->w.store);
	pthread_mutex_destroy(&p->w.mu);
	pthread_cond_destroy(&p->w.cv);
	free(p->packbuf);
	pmhc_config_free(p->cfg);
	free(p);
	return rc;
}
