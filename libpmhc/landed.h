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
 *  - on a quiet partition, with no such message to go by: the partition read
 *    to its end, that end as its leader tells it unmoved, and nothing new on
 *    it, for PMHC_LANDED_SETTLE_MS: it did not land. (A partition only other
 *    instances keep busy waits for this instance's next message there.) A message the leader wrote is
 *    committed, and readable, once its followers copy it or are dropped from
 *    the in-sync set (after replica.lag.time.max.ms, 30 s by default), or once
 *    brokers that were away come back: the settle time is librdkafka's own
 *    default message.timeout.ms, the time it gives a message to be delivered.
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
 * be written by a live broker a moment later. A broker frozen for longer (a
 * stopped process, a paused machine) could write it after that message; the
 * message would then be published twice.
 */
#define PMHC_LANDED_MARGIN_MS 5000

/* See above: five minutes, librdkafka's default message.timeout.ms. */
#define PMHC_LANDED_SETTLE_MS 300000

/* The message looked for, and what is known of its failure. */
struct pmhc_landed_want {
	const void *key, *val;
	size_t key_len, val_len;
	const void *instance; /* the pmhc-instance header it carried */
	size_t instance_len;
	int32_t partition;
	int64_t made_ms;   /* wall clock when it was last produced */
	int64_t failed_ms; /* wall clock when the failure was reported */
};

/*
 * One message read from the partition, its pmhc-instance header NULL when
 * absent. created_ms is its producer's timestamp, -1 when the topic stamps
 * the broker's append time instead: another clock than the failure's.
 */
struct pmhc_landed_seen {
	const void *key, *val;
	size_t key_len, val_len;
	const void *instance;
	size_t instance_len;
	int32_t partition;
	int64_t created_ms;
};

enum pmhc_landed_sign {
	PMHC_LANDED_NOTHING, /* says nothing about the message wanted */
	PMHC_LANDED_FOUND,   /* it is the message wanted: it landed */
	PMHC_LANDED_PASSED,  /* read past where it would be: it did not land */
};

/* What seen says about w. */
enum pmhc_landed_sign pmhc_landed_judge(const struct pmhc_landed_want *w, const struct pmhc_landed_seen *seen);

/* What the reader knows of the partition, for pmhc_landed_settled; times on one clock. */
struct pmhc_landed_watch {
	int64_t quiet_since_ms; /* the last message read on it, or when reading began */
	int64_t high;           /* its end (high watermark) as its leader last told it; -1 when it did not */
	int64_t high_since_ms;  /* since when that answer has been what it is */
	int64_t read_to;        /* the offset after the last message read on it */
};

/* Whether the partition has settled without the message (see above). */
bool pmhc_landed_settled(const struct pmhc_landed_watch *w, int64_t now_ms);

#endif
