/*
 * Whether a message the producer gave up on is on its partition after all.
 *
 * librdkafka reports a message "possibly persisted" when its request reached a
 * broker that then died, or was purged in flight from a producer that failed
 * fatally: the broker may have written it. Sent again blind, a recommendation
 * the broker did keep goes on the topic twice; not sent again, one it did not
 * keep is lost. So its partition is read from before the message was made,
 * and what is read decides:
 *  - the message itself (key, value and the instance that sent it, byte for
 *    byte): it landed;
 *  - a later message of the same instance, made more than PMHC_LANDED_MARGIN_MS
 *    after the failure was reported: whatever the broker kept of the failed one
 *    lies before it in the log, so it did not land;
 *  - nothing new on the partition while its end (high watermark) stays put for
 *    PMHC_LANDED_SETTLE_MS: it did not land. A message written by the leader
 *    but not yet copied to the in-sync replicas is committed, and readable, as
 *    soon as they copy it or are dropped from the in-sync set, which a broker
 *    does after replica.lag.time.max.ms (30 s by default); the settle time is
 *    longer.
 * A consumer reads only committed messages, so one found is one that stays.
 * Pure: the caller reads the partition and keeps the clock.
 */
#ifndef PMHC_LANDED_H
#define PMHC_LANDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A later message of this instance counts only when made this long after the
 * failure: a request already on the wire when the producer gave up may still
 * be written by a live broker a moment later.
 */
#define PMHC_LANDED_MARGIN_MS 5000

/* Longer than a broker's default replica.lag.time.max.ms (30 s); see above. */
#define PMHC_LANDED_SETTLE_MS 45000

/* The message looked for, and what is known of its failure. */
struct pmhc_landed_want {
	const void *key, *val;
	size_t key_len, val_len;
	const void *instance; /* the pmhc-instance header it carried */
	size_t instance_len;
	int32_t partition;
	int64_t made_ms;   /* its timestamp, as its delivery report gave it */
	int64_t failed_ms; /* wall clock when the failure was reported */
};

/* One message read from the partition, its pmhc-instance header NULL when absent. */
struct pmhc_landed_seen {
	const void *key, *val;
	size_t key_len, val_len;
	const void *instance;
	size_t instance_len;
	int32_t partition;
	int64_t timestamp_ms;
};

enum pmhc_landed_sign {
	PMHC_LANDED_NOTHING, /* says nothing about the message wanted */
	PMHC_LANDED_FOUND,   /* it is the message wanted: it landed */
	PMHC_LANDED_PASSED,  /* read past where it would be: it did not land */
};

/* What seen says about w. */
enum pmhc_landed_sign pmhc_landed_judge(const struct pmhc_landed_want *w, const struct pmhc_landed_seen *seen);

/*
 * Whether the partition has settled without the message: the reader met
 * nothing on it since quiet_since_ms, while its high watermark stayed what it
 * was then. high_ms is when the watermark last changed; both are read with
 * one clock, now_ms on the same.
 */
bool pmhc_landed_settled(int64_t quiet_since_ms, int64_t high_since_ms, int64_t now_ms);

#endif
