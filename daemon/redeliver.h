/*
 * What the producer could not deliver, held until it is: a DLQ message or a
 * recommendation that failed to queue or came back failed is copied here and
 * sent again with a capped backoff. Its batch keeps counting it as
 * undelivered, so no offset moves past it. After REDELIVER_STALL_AFTER
 * failures the pipeline is stalled at that input, said at error level with
 * the topic, partition and offset, and the message is still tried now and
 * then: never dropped, never skipped. A producer that failed fatally is
 * replaced, and what it held is sent again by the new one.
 */
#ifndef PMHC_REDELIVER_H
#define PMHC_REDELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "batch.h"
#include "recheck.h"

struct pipeline;

/* What a delivery report needs to find its batch, and to name the input behind the message. */
struct pmhc_delivery {
	struct pmhc_batch *batch;
	bool dlq;
	const char *src_topic; /* in the batch's arena */
	int32_t src_partition;
	int64_t src_offset;
	int failures;    /* main thread only */
	int64_t made_ms; /* wall clock when first produced: a failed report may carry no timestamp */
};

/* A message to be sent again: its own copies of everything, headers owned until queued. */
struct pmhc_held {
	struct pmhc_held *next;
	struct pmhc_delivery *d;
	struct pmhc_recheck_job *look; /* while it is looked for on the topic: not sent meanwhile */
	char *topic;
	void *key, *val;
	size_t key_len, len;
	rd_kafka_headers_t *headers;
	int64_t due_ms;
	long backoff_ms;
};

/*
 * A failed delivery report's message, when the broker may have written it
 * (librdkafka's RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED): the partition it went
 * to, where recheck.c looks for it before it is sent again.
 */
struct pmhc_maybe_written {
	int32_t partition;
};

/*
 * Holds a message that failed with err: copies topic, key and value, takes
 * headers. counted says whether its batch already counts it as undelivered
 * (a failed delivery report) or not yet (a produce refused at once). maybe,
 * when not NULL, says the broker may have it: a recommendation is then looked
 * for on the topic first, and sent again only if it is not there.
 */
void pmhc_redeliver_hold(struct pipeline *p, struct pmhc_delivery *d, const char *topic, const void *key,
			 size_t key_len, const void *val, size_t len, rd_kafka_headers_t *headers,
			 rd_kafka_resp_err_t err, bool counted, const struct pmhc_maybe_written *maybe);

/* Replaces a fatally failed producer, then sends again what is due. Main loop, every step. */
void pmhc_redeliver_tick(struct pipeline *p);

/* Messages held, and how many of them have stalled the pipeline. */
size_t pmhc_redeliver_count(const struct pipeline *p, size_t *stalled);

/* Frees what is still held (at exit: its offsets were never committed, so it is replayed). */
void pmhc_redeliver_clear(struct pipeline *p);

#endif
