/*
 * What pmhcd produces: recommendations onto their topic at once, and rejected
 * inputs onto the DLQ with the pmhc-* headers of SPEC section 8. Every message
 * is counted against its batch until its delivery report comes back, so the
 * batch's offsets move only once what it produced has landed; what fails is
 * held and sent again (redeliver.c).
 */
#ifndef PMHC_OUTBOX_H
#define PMHC_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "batch.h"
#include "recommend.h"

struct pipeline;

/* The producer, its delivery reports routed back here; 0, or -1 with err filled. */
int pmhc_outbox_open(struct pipeline *p, char *err, size_t errlen);

/* A producer failed fatally is replaced; what it held comes back through its delivery reports. */
void pmhc_outbox_renew_if_fatal(struct pipeline *p);

/* Waits up to a bound for what is still queued, then destroys the producer. */
void pmhc_outbox_close(struct pipeline *p);

/* The recommendation in s (decided from input m) onto its topic, keyed by the call; awaited with b. */
void pmhc_outbox_publish(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m,
			 const struct pmhc_rec_scratch *s, const char *key, size_t klen);

/* Records m as rejected in b and sends it to the DLQ with reason. */
void pmhc_outbox_reject(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m, const char *reason);

/* Rows PostgreSQL refused go to the DLQ like any rejected input, before the offsets move. */
void pmhc_outbox_send_poison(struct pipeline *p, struct pmhc_batch *b);

#endif
