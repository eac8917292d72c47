/*
 * The backfill mode (SPEC section 9): history read in a group of its own, in
 * large batches, until every partition has been read to its end and all of it
 * is durable. Live mode passes through these functions unchanged.
 */
#ifndef PMHC_BACKFILL_H
#define PMHC_BACKFILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

struct pipeline;

/* The batch bounds: limits.batch_max_events and batch_max_ms, raised for backfill. */
size_t pmhc_backfill_batch_events(const struct pipeline *p);
int64_t pmhc_backfill_batch_ms(const struct pipeline *p);

/* Backfill: whether each assigned partition of the history topic has been read to its end. */
void pmhc_backfill_mark_end(struct pipeline *p, int32_t partition, bool at_end);

/* Backfill: a fresh assignment starts with nothing read to its end. */
void pmhc_backfill_assigned(struct pipeline *p, const rd_kafka_topic_partition_list_t *parts);

/* Backfill: a revoke leaves no partition to read. */
void pmhc_backfill_revoked(struct pipeline *p);

/*
 * Backfill: true once every partition was read to its end and all of it is
 * durable (logged). Until then, once nothing more is coming, seals the batch.
 */
bool pmhc_backfill_finished(struct pipeline *p);

/*
 * Backfill, once caught up and stopped (offsets committed): the final pass
 * that brings the hourly summary and the repeat flags of every deferred write
 * current (migration 014). Retries what may clear for up to limits.stall_exit.
 * EX_OK when done, when stopped meanwhile (the notes stay for the next run),
 * or in live mode; EX_TEMPFAIL when it gave up.
 */
int pmhc_backfill_final_pass(struct pipeline *p);

#endif
