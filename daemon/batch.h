/*
 * The batch, its arena, and its offsets: what is stored after COMMIT. Plain
 * data: it knows nothing of threads, Kafka producers or the loop that fills it.
 */
#ifndef PMHC_BATCH_H
#define PMHC_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "arena.h"
#include "config.h"
#include "store.h"

/* The highest offset of one partition seen in a batch. */
struct pmhc_offset_mark {
	const char *topic;
	int32_t partition;
	int64_t offset;
};

/* An input refused (by wire.c or by PostgreSQL), to go to the DLQ as it came. */
struct pmhc_poison {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *reason;
	const void *bytes; /* the message's value as consumed */
	size_t len;
	const void *key; /* the message's key as consumed; NULL for none */
	size_t key_len;
};

/* An input as consumed: its value and key, kept in the batch's arena for the DLQ. */
struct pmhc_raw {
	const void *val;
	size_t len;
	const void *key; /* NULL when it had none */
	size_t key_len;
};

/*
 * A batch: the inputs polled in one window, what they decided, and where to
 * resume. Everything it points to lives in its arena, so a config reload or
 * the next batch cannot pull anything from under the writer.
 */
struct pmhc_batch {
	struct pmhc_batch *next; /* in the writer's queues */
	struct pmhc_arena arena;
	struct pmhc_call_row *rows;
	size_t n_rows, cap_rows;
	struct pmhc_raw *rows_raw; /* rows[i] as consumed: what the DLQ gets if PostgreSQL refuses it */
	size_t n_rows_raw, cap_rows_raw;
	struct pmhc_disposition_row *dispositions;
	size_t n_dispositions, cap_dispositions;
	struct pmhc_raw *dispositions_raw;
	size_t n_dispositions_raw, cap_dispositions_raw;
	struct pmhc_rejected_row *rejected;
	size_t n_rejected, cap_rejected;
	struct pmhc_unit_row *units; /* statuses to record; they move no group offset */
	size_t n_units, cap_units;
	/*
	 * Rows PostgreSQL refused for their data: the writer finds them one by one and
	 * records them as rejected; the main thread then sends them to the DLQ.
	 */
	struct pmhc_poison *poison;
	size_t n_poison, cap_poison;
	bool poison_sent;
	const char *topic_calls, *topic_dispositions;
	struct pmhc_offset_mark *marks;
	size_t n_marks, cap_marks;
	size_t n_messages;
	int64_t opened_ms;
	int undelivered;     /* produced messages without a delivery report; main thread only */
	size_t queued_bytes; /* its arena's size when handed to the writer, for the backlog in bytes */
	size_t held_bytes;   /* what the writer counted for it in its held backlog, from submit to pop */
	struct pmhc_store_result result;
};

/* An empty batch, opened now; NULL when out of memory. */
struct pmhc_batch *pmhc_batch_new(const struct pmhc_config *cfg);
void pmhc_batch_free(struct pmhc_batch *b);

/* A batch counts unit statuses too: they are rows to write, just no group offsets. */
size_t pmhc_batch_size(const struct pmhc_batch *b);

/* The memory the batch holds, in bytes: its arena's allocations and its arrays. */
size_t pmhc_batch_bytes(const struct pmhc_batch *b);

/*
 * Each appends a copy of *row (its pointers still borrowed) and a copy of m's
 * value and key, the input as consumed; false when out of memory.
 */
bool pmhc_batch_add_call(struct pmhc_batch *b, const struct pmhc_call_row *row, const rd_kafka_message_t *m);
bool pmhc_batch_add_disposition(struct pmhc_batch *b, const struct pmhc_disposition_row *row,
				const rd_kafka_message_t *m);
/* Each appends a copy of *row (its pointers still borrowed); false when out of memory. */
bool pmhc_batch_add_unit(struct pmhc_batch *b, const struct pmhc_unit_row *row);
bool pmhc_batch_add_rejected(struct pmhc_batch *b, const struct pmhc_rejected_row *row);
bool pmhc_batch_add_poison(struct pmhc_batch *b, const struct pmhc_poison *x);

/* Notes m's offset as read by this batch; 0, or -1 when out of memory. */
int pmhc_batch_mark(struct pmhc_batch *b, const rd_kafka_message_t *m);

/*
 * After the batch's COMMIT: stores its offsets with the consumer, for
 * librdkafka to commit. The inputs are then never read again by the group.
 */
void pmhc_batch_store_offsets(const struct pmhc_batch *b, rd_kafka_t *consumer);

#endif
