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

#include "batch.h"
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
	size_t held_events, held_bytes; /* todo and done alike, until the main thread pops a batch */
	bool quit;                      /* finish the queue, then exit */
	bool abandon;                   /* exit after the write in progress */
	bool db_down;
	bool history;             /* backfill: rows most likely new to the tables */
	struct pmhc_store *store; /* the writer's own connection, owned from here on */
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

/* Tells the thread to finish its queue (or, abandoning, only the write in progress) and joins it. */
void pmhc_writer_stop(struct pmhc_writer *w, bool abandon);

/* Frees every batch still queued, closes the store. The thread has stopped or never started. */
void pmhc_writer_destroy(struct pmhc_writer *w);

#endif
