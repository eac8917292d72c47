/*
 * The writer thread: sealed batches → PostgreSQL, in order, one transaction
 * each, retrying with a capped backoff until done. Live decisions never wait
 * for it. Written batches wait in its done queue until the main thread has
 * delivered their messages and stored their offsets.
 */
#ifndef PMHC_WRITER_H
#define PMHC_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "metrics.h"
#include "store.h"

struct pmhc_batch_queue {
	struct pmhc_batch *head, *tail;
};

struct pmhc_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pmhc_batch_queue todo, done;
	size_t todo_events;
	size_t todo_bytes;              /* the queued batches' arenas */
	size_t held_events, held_bytes; /* todo and done alike, until the main thread pops a batch */
	bool quit;                      /* finish the queue, then exit */
	bool abandon;                   /* exit after the write in progress */
	bool db_down;
	bool history;                 /* backfill: rows most likely new to the tables */
	bool orphaned;                /* stopped without a join: its thread may still run */
	struct pmhc_store *store;     /* the writer's own connection, owned from here on */
	struct pmhc_metrics *metrics; /* batch write latencies go here; NULL when nobody looks */
	/* An error that does not clear (pmhc_store_error_persistent): since when, and what. */
	int64_t stall_since_ms;
	char stall_reason[PMHC_METRICS_REASON_LEN];
};

/* The writer as the loop reports it: one look under the lock. */
struct pmhc_writer_view {
	size_t events, bytes; /* waiting to be written */
	int64_t oldest_ms;    /* CLOCK_MONOTONIC when the oldest of them arrived; 0 when none */
	bool db_down;
	int64_t stall_since_ms; /* 0 when not stalled */
	char stall_reason[PMHC_METRICS_REASON_LEN];
};

/* Ready to queue batches; the thread starts with pmhc_writer_start. */
void pmhc_writer_init(struct pmhc_writer *w, bool history);
/* 0, or an errno value when the thread could not start. */
int pmhc_writer_start(struct pmhc_writer *w);

/* Hands b over; the writer owns it until it comes back through the done queue. */
void pmhc_writer_submit(struct pmhc_writer *w, struct pmhc_batch *b);

/*
 * The oldest written batch, left in the done queue: only the main thread
 * removes it, with pmhc_writer_done_pop, once its messages are delivered.
 */
struct pmhc_batch *pmhc_writer_done_peek(struct pmhc_writer *w);
void pmhc_writer_done_pop(struct pmhc_writer *w);

/* Whether no batch waits to be written or reaped. */
bool pmhc_writer_idle(struct pmhc_writer *w);

/* Events waiting to be written, and whether PostgreSQL is down. */
size_t pmhc_writer_backlog(struct pmhc_writer *w, bool *db_down);

/* Events and bytes of every batch handed over and not yet popped: written or not, delivered or not. */
void pmhc_writer_held(struct pmhc_writer *w, size_t *events, size_t *bytes);

void pmhc_writer_view(struct pmhc_writer *w, struct pmhc_writer_view *v);

/*
 * Tells the thread to finish its queue (or, abandoning, only the write in
 * progress) and joins it, waiting until deadline_ms (CLOCK_MONOTONIC; 0 for
 * as long as it takes). false when the thread is still busy then (a write
 * hung on a dead server): it is left to the process's exit, and
 * pmhc_writer_destroy leaves alone what it may still touch.
 */
bool pmhc_writer_stop(struct pmhc_writer *w, bool abandon, int64_t deadline_ms);

/* Frees every batch still queued, closes the store. The thread has stopped or never started. */
void pmhc_writer_destroy(struct pmhc_writer *w);

#endif
