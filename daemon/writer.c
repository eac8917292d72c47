#include "writer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "digest.h"
#include "log.h"
#include "priority.h"

/*
 * A batch PostgreSQL refused for its own reasons is tried again from 200 ms, which
 * rides out a deadlock or a failover without a visible stall, up to every 10 s, which
 * finds a server back soon without flooding its log while it is down.
 */
#define WRITE_RETRY_FIRST_MS 200
#define WRITE_RETRY_CAP_MS 10000

/*
 * A refused row's reason: the prefix and all of PostgreSQL's message, which
 * store.c keeps in 512 bytes, fit.
 */
#define POISON_REASON_LEN 600

#define MS_PER_S 1000
#define NS_PER_MS 1000000L
#define US_PER_S 1e6

static void queue_push(struct pmhc_batch_queue *q, struct pmhc_batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
}

static struct pmhc_batch *queue_pop(struct pmhc_batch_queue *q)
{
	struct pmhc_batch *b = q->head;
	if (b != NULL) {
		q->head = b->next;
		if (q->head == NULL)
			q->tail = NULL;
		b->next = NULL;
	}
	return b;
}

/* ---- the writer thread: batches → PostgreSQL, in order, retrying until done ---- */

/* Records one row PostgreSQL refused, to go to the DLQ as it was consumed; false when out of memory. */
static bool add_poison(struct pmhc_batch *b, const char *topic, int32_t partition, int64_t offset,
		       const struct pmhc_raw *raw, const char *why)
{
	struct pmhc_poison x = { topic, partition, offset, NULL, raw->val, raw->len, raw->key, raw->key_len };
	char reason[POISON_REASON_LEN];
	snprintf(reason, sizeof reason, "refused by PostgreSQL: %s", why);
	for (char *c = reason; *c; c++)
		if (*c == '\n')
			*c = ' ';
	x.reason = pmhc_arena_strdup(&b->arena, reason);
	return x.reason != NULL && pmhc_batch_add_poison(b, &x);
}

/*
 * One event alone, as a batch of its own; refused for its data, it is kept as
 * poison for the DLQ. 0, or -1 when the connection went or memory ran out.
 */
static int write_event(struct pmhc_store *store, struct pmhc_batch *b, const struct pmhc_store_batch *one,
		       const char *topic, int32_t partition, int64_t offset, const struct pmhc_raw *raw)
{
	struct pmhc_store_result r;
	if (pmhc_store_write_batch(store, one, &r) == 0) {
		b->result.applied += r.applied;
		b->result.stale += r.stale;
		return 0;
	}
	if (pmhc_store_connection_lost(store) ||
	    !add_poison(b, topic, partition, offset, raw, pmhc_store_last_error(store)))
		return -1;
	return 0;
}

/* The calls and dispositions, the events whose offsets the group moves, one by one. */
static int split_events(struct pmhc_store *store, struct pmhc_batch *b)
{
	for (size_t i = 0; i < b->n_rows; i++) {
		const struct pmhc_call_row *row = &b->rows[i];
		struct pmhc_store_batch one = { .calls = row, .n_calls = 1 };
		if (write_event(store, b, &one, b->topic_calls, row->partition, row->offset, &b->rows_raw[i]) != 0)
			return -1;
	}
	for (size_t i = 0; i < b->n_dispositions; i++) {
		const struct pmhc_disposition_row *row = &b->dispositions[i];
		struct pmhc_store_batch one = { .dispositions = row, .n_dispositions = 1 };
		if (write_event(store, b, &one, b->topic_dispositions, row->partition, row->offset,
				&b->dispositions_raw[i]) != 0)
			return -1;
	}
	return 0;
}

static int split_units(struct pmhc_store *store, struct pmhc_batch *b)
{
	struct pmhc_store_result r;
	for (size_t i = 0; i < b->n_units; i++) {
		struct pmhc_store_batch one = { .units = &b->units[i], .n_units = 1 };
		if (pmhc_store_write_batch(store, &one, &r) == 0)
			continue;
		if (pmhc_store_connection_lost(store))
			return -1;
		/* A status is history only (the roster already has it): say so and go on. */
		pmhc_error("msg=\"unit status refused by PostgreSQL; not recorded\" unit=\"%s/%s\" error=\"%s\"",
			   pmhc_q(b->units[i].status->psap_id), pmhc_q(b->units[i].status->unit_id),
			   pmhc_q(pmhc_store_last_error(store)));
	}
	return 0;
}

/* The batch's own rejections, and the rows just refused, as rejected_events. */
static int record_rejected(struct pmhc_store *store, struct pmhc_batch *b)
{
	struct pmhc_store_result r;
	struct pmhc_rejected_row *rej = pmhc_arena_alloc(&b->arena, (b->n_rejected + b->n_poison + 1) * sizeof *rej);
	if (rej == NULL)
		return -1;
	if (b->n_rejected > 0) /* b->rejected is NULL until the first: memcpy must not see it */
		memcpy(rej, b->rejected, b->n_rejected * sizeof *rej);
	for (size_t i = 0; i < b->n_poison; i++) {
		const struct pmhc_poison *x = &b->poison[i];
		struct pmhc_rejected_row *row = &rej[b->n_rejected + i];
		*row = (struct pmhc_rejected_row){ x->topic, x->partition, x->offset, x->reason, x->len, { 0 } };
		pmhc_sha256(x->bytes, x->len, row->payload_sha256);
		pmhc_error(
			"msg=\"row refused by PostgreSQL; sent to the DLQ instead\" topic=%s partition=%d offset=%lld "
			"reason=\"%s\"",
			x->topic, (int)x->partition, (long long)x->offset, x->reason);
	}
	struct pmhc_store_batch rb = { .rejected = rej, .n_rejected = b->n_rejected + b->n_poison };
	if (pmhc_store_write_batch(store, &rb, &r) != 0) {
		/* An offset never commits without its record: the whole batch is tried again. */
		if (!pmhc_store_connection_lost(store))
			pmhc_error("msg=\"rejected events refused by PostgreSQL; holding the batch and retrying\" "
				   "events=%zu error=\"%s\"",
				   rb.n_rejected, pmhc_store_last_error(store));
		return -1;
	}
	return 0;
}

/*
 * PostgreSQL refused the batch for its data, not for a lost connection: write
 * its rows one by one so that one bad row cannot hold back the rest, and record
 * each row it still refuses as rejected. 0 when done; -1 when the connection
 * went meanwhile (the whole batch is tried again later: the writes are
 * idempotent).
 */
static int write_split(struct pmhc_store *store, struct pmhc_batch *b)
{
	b->n_poison = 0;
	b->result.applied = b->result.stale = 0;
	if (split_events(store, b) != 0 || split_units(store, b) != 0)
		return -1;
	return record_rejected(store, b);
}

/* One batch in one transaction, or else row by row; 0 when it is done with. */
static int write_batch(struct pmhc_writer *w, struct pmhc_batch *b)
{
	struct pmhc_store_batch sb = {
		b->rows,       b->n_rows, b->dispositions, b->n_dispositions, b->rejected,
		b->n_rejected, b->units,  b->n_units,      w->history,
	};
	/* A split cut short by a lost connection leaves rows named as refused; this try names its own. */
	b->n_poison = 0;
	int rc = pmhc_store_write_batch(w->store, &sb, &b->result);
	if (rc != 0 && !pmhc_store_connection_lost(w->store))
		rc = write_split(w->store, b);
	return rc;
}

/* Under w->mu: b, the head of todo, is durable and moves on to done. */
static void written(struct pmhc_writer *w, struct pmhc_batch *b)
{
	if (w->db_down)
		pmhc_info("msg=\"PostgreSQL back; catching up\" backlog_events=%zu", w->todo_events);
	if (w->stall_since_ms != 0)
		pmhc_info("msg=\"PostgreSQL takes writes again; escalation cleared\" stalled_s=%lld",
			  (long long)((pmhc_mono_ms() - w->stall_since_ms) / MS_PER_S));
	w->db_down = false;
	w->stall_since_ms = 0;
	queue_pop(&w->todo);
	w->todo_events -= pmhc_batch_size(b);
	w->todo_bytes -= b->queued_bytes;
	queue_push(&w->done, b);
}

/*
 * Under w->mu, after a failed write: an error that no row causes and that
 * does not clear (a privilege revoked, a table dropped) starts the stall
 * clock, once, with a fatal line naming the statement and the SQLSTATE. The
 * loop exits at limits.stall_exit unless a write succeeds before.
 */
static void note_stall(struct pmhc_writer *w)
{
	const char *state = pmhc_store_last_sqlstate(w->store);
	if (w->stall_since_ms != 0 || !pmhc_store_error_persistent(state))
		return;
	char stmt[PMHC_METRICS_REASON_LEN / 2];
	pmhc_store_last_statement(w->store, stmt, sizeof stmt);
	w->stall_since_ms = pmhc_mono_ms();
	snprintf(w->stall_reason, sizeof w->stall_reason, "PostgreSQL refuses %s with SQLSTATE %s", stmt, state);
	pmhc_fatal("msg=\"PostgreSQL refuses pmhcd's writes with an error that does not clear; escalated\" "
		   "statement=\"%s\" sqlstate=%s error=\"%s\" backlog_events=%zu "
		   "hint=\"check the grants and the schema of pmhcd's role; pmhcd exits after limits.stall_exit "
		   "unless it clears, committing no offset of what is not stored\"",
		   pmhc_q(stmt), pmhc_q(state), pmhc_q(pmhc_store_last_error(w->store)), w->todo_events);
}

/*
 * Under w->mu: a failed write waits backoff_ms; a shutdown or abandon wakes it
 * early. A new batch signals the same condition: it must not, or during an
 * outage every batch_max_ms would cut the backoff short and the writer would
 * hammer the server (about 22 reconnects a second, seen in crash.sh's logs).
 */
static void wait_to_retry(struct pmhc_writer *w, long backoff_ms)
{
	if (!w->db_down)
		pmhc_warn("msg=\"PostgreSQL write failed; decisions continue from memory, retrying\" "
			  "backlog_events=%zu",
			  w->todo_events);
	w->db_down = true;
	/* pthread_cond_timedwait takes a CLOCK_REALTIME deadline. */
	int64_t until_ms = pmhc_wall_ms() + backoff_ms;
	struct timespec until = { .tv_sec = until_ms / MS_PER_S, .tv_nsec = (until_ms % MS_PER_S) * NS_PER_MS };
	while (!w->abandon && !w->quit)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
			break;
}

static void *writer_main(void *arg)
{
	struct pmhc_writer *w = arg;
	long backoff_ms = WRITE_RETRY_FIRST_MS;
	/* Live, the decisions come first; a backfill's writer is its pace. */
	if (!w->history)
		pmhc_priority_background("writer");
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->todo.head == NULL && !w->quit && !w->abandon)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->abandon || (w->todo.head == NULL && w->quit))
			break;
		struct pmhc_batch *b = w->todo.head;
		pthread_mutex_unlock(&w->mu);
		int64_t t0 = pmhc_mono_us();
		int rc = write_batch(w, b);
		if (rc == 0)
			pmhc_metrics_observe_write(w->metrics, (double)(pmhc_mono_us() - t0) / US_PER_S);
		pthread_mutex_lock(&w->mu);
		if (rc == 0) {
			written(w, b);
			backoff_ms = WRITE_RETRY_FIRST_MS;
		} else {
			note_stall(w);
			/* Capped backoff. */
			wait_to_retry(w, backoff_ms);
			backoff_ms = pmhc_backoff_next(backoff_ms, WRITE_RETRY_CAP_MS);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- the main thread's side ---- */

void pmhc_writer_init(struct pmhc_writer *w, bool history)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->history = history;
}

int pmhc_writer_start(struct pmhc_writer *w)
{
	return pthread_create(&w->thread, NULL, writer_main, w);
}

void pmhc_writer_submit(struct pmhc_writer *w, struct pmhc_batch *b)
{
	pthread_mutex_lock(&w->mu);
	queue_push(&w->todo, b);
	w->todo_events += pmhc_batch_size(b);
	b->queued_bytes = b->arena.bytes;
	w->todo_bytes += b->queued_bytes;
	b->held_bytes = pmhc_batch_bytes(b);
	w->held_events += pmhc_batch_size(b);
	w->held_bytes += b->held_bytes;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

struct pmhc_batch *pmhc_writer_done_peek(struct pmhc_writer *w)
{
	pthread_mutex_lock(&w->mu);
	struct pmhc_batch *b = w->done.head;
	pthread_mutex_unlock(&w->mu);
	return b;
}

void pmhc_writer_done_pop(struct pmhc_writer *w)
{
	pthread_mutex_lock(&w->mu);
	struct pmhc_batch *b = queue_pop(&w->done);
	if (b != NULL) {
		w->held_events -= pmhc_batch_size(b);
		w->held_bytes -= b->held_bytes;
	}
	pthread_mutex_unlock(&w->mu);
}

bool pmhc_writer_idle(struct pmhc_writer *w)
{
	pthread_mutex_lock(&w->mu);
	bool empty = w->todo.head == NULL && w->done.head == NULL;
	pthread_mutex_unlock(&w->mu);
	return empty;
}

size_t pmhc_writer_backlog(struct pmhc_writer *w, bool *db_down)
{
	pthread_mutex_lock(&w->mu);
	size_t backlog = w->todo_events;
	if (db_down != NULL)
		*db_down = w->db_down;
	pthread_mutex_unlock(&w->mu);
	return backlog;
}

void pmhc_writer_held(struct pmhc_writer *w, size_t *events, size_t *bytes)
{
	pthread_mutex_lock(&w->mu);
	*events = w->held_events;
	*bytes = w->held_bytes;
	pthread_mutex_unlock(&w->mu);
}

void pmhc_writer_view(struct pmhc_writer *w, struct pmhc_writer_view *v)
{
	pthread_mutex_lock(&w->mu);
	v->events = w->todo_events;
	v->bytes = w->todo_bytes;
	v->oldest_ms = w->todo.head ? w->todo.head->opened_ms : 0;
	v->db_down = w->db_down;
	v->stall_since_ms = w->stall_since_ms;
	memcpy(v->stall_reason, w->stall_reason, sizeof v->stall_reason);
	pthread_mutex_unlock(&w->mu);
}

bool pmhc_writer_stop(struct pmhc_writer *w, bool abandon, int64_t deadline_ms)
{
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	w->abandon = abandon;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (deadline_ms == 0) {
		pthread_join(w->thread, NULL);
		return true;
	}
	/* pthread_timedjoin_np takes a CLOCK_REALTIME deadline. */
	int64_t until_ms = pmhc_wall_ms() + (deadline_ms - pmhc_mono_ms());
	struct timespec until = { .tv_sec = until_ms / MS_PER_S, .tv_nsec = (until_ms % MS_PER_S) * NS_PER_MS };
	if (pthread_timedjoin_np(w->thread, NULL, &until) == 0)
		return true;
	w->orphaned = true;
	return false;
}

void pmhc_writer_destroy(struct pmhc_writer *w)
{
	if (w->orphaned)
		return; /* its thread may still use all of it: the process's exit frees it */
	/* Batches never written keep their offsets uncommitted: replayed on restart. */
	for (struct pmhc_batch *b; (b = queue_pop(&w->todo)) != NULL;)
		pmhc_batch_free(b);
	for (struct pmhc_batch *b; (b = queue_pop(&w->done)) != NULL;)
		pmhc_batch_free(b);
	pmhc_store_close(w->store);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}
