/*
 * Kafka handles configured from pmhcd's config: the consumer in the group that
 * shares cad.calls, and the producer for recommendations and the DLQ. Thin on
 * purpose: the batching and offsets live in batch.c, the rebalance policy in
 * pipeline.c.
 */
#ifndef PMHC_KAFKA_H
#define PMHC_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/*
 * A consumer in kafka.group_id. Offsets are stored by pmhcd only after what a
 * message caused is durable (enable.auto.offset.store=false) and committed by
 * librdkafka's timer and on revoke/close. opaque reaches rebalance_cb and
 * stats_cb; with a stats_cb, librdkafka's statistics come every
 * PMHC_KAFKA_STATS_MS unless kafka.properties sets statistics.interval.ms.
 */
#define PMHC_KAFKA_STATS_MS 5000
typedef int (*pmhc_kafka_stats_cb)(rd_kafka_t *rk, char *json, size_t len, void *opaque);
rd_kafka_t *pmhc_kafka_consumer_new(const struct pmhc_config *cfg, const char *group_id, bool partition_eof,
				    void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
							 rd_kafka_topic_partition_list_t *, void *),
				    pmhc_kafka_stats_cb stats_cb, void *opaque, char *err, size_t errlen);

/* An idempotent producer; dr_msg_cb runs from rd_kafka_poll() on the caller's thread. */
rd_kafka_t *pmhc_kafka_producer_new(const struct pmhc_config *cfg,
				    void (*dr_msg_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *), void *opaque,
				    char *err, size_t errlen);

/*
 * Every occurrence of value in text becomes as many '*', in place: kafka.properties
 * carries passwords and keys, and librdkafka's reasons quote the value refused.
 */
void pmhc_kafka_mask(char *text, const char *value);

/* Room for a broker's refusal as librdkafka words it. */
#define PMHC_KAFKA_REFUSAL_LEN 384

/*
 * The last TLS handshake or SASL login a broker refused, to any client of this
 * process, into buf; false when none has been.
 */
bool pmhc_kafka_last_refusal(char *buf, size_t len);

/*
 * A consumer's or reader's refused authorization (GROUP_ or TOPIC_AUTHORIZATION_FAILED):
 * librdkafka goes on asking, so pmhcd stays up and reads once the ACL is granted,
 * and says so at error level naming the group or topic and the ACL to grant
 * (group_acl, e.g. "Read on group pmhcd"). A group refused to a reader, which
 * reads without it (group_needed false), is a warning. The same refusal again
 * within a minute is only counted. False, and nothing logged, for any other error.
 */
struct pmhc_kafka_refusals {
	rd_kafka_resp_err_t err; /* the last refusal logged */
	int64_t at_ms;           /* when, CLOCK_MONOTONIC */
	unsigned long repeats;   /* seen since, not logged */
};
bool pmhc_kafka_refused(rd_kafka_t *rk, const rd_kafka_message_t *m, const char *who, const char *group_acl,
			bool group_needed, struct pmhc_kafka_refusals *seen);

/* The group a reader (pmhc_kafka_reader_new) names and never joins: "GROUP_ID-reader-PID". */
#define PMHC_KAFKA_GROUP_LEN 160
void pmhc_kafka_reader_group(const struct pmhc_config *cfg, char *buf, size_t len);
/* The ACL those groups need, as pmhc_kafka_refused names it: Describe on their prefix. */
void pmhc_kafka_reader_acl(const struct pmhc_config *cfg, char *buf, size_t len);

/* Subscribes to topics; 0 or -1 with err filled. */
int pmhc_kafka_subscribe(rd_kafka_t *rk, const char *const *topics, size_t n, char *err, size_t errlen);


/*
 * A reader of every partition of topic, outside any consumer group: each pmhcd
 * instance must see all of cad.units, and all of the recommendations for the
 * others' unit holds. It starts at the first message at or after from_ms (wall
 * clock), or at the beginning when from_ms is PMHC_KAFKA_FROM_BEGINNING, and
 * commits nothing. Waits up to timeout_ms for the topic's metadata. With
 * gather_ms > 0 the broker answers a fetch once PMHC_KAFKA_GATHER_BYTES have
 * come or after gather_ms: for a busy topic read in full, a few full fetches
 * instead of one per message.
 */
#define PMHC_KAFKA_GATHER_BYTES "8192"
#define PMHC_KAFKA_FROM_BEGINNING (-1)
rd_kafka_t *pmhc_kafka_reader_new(const struct pmhc_config *cfg, const char *topic, int64_t from_ms, int gather_ms,
				  int timeout_ms, char *err, size_t errlen);

/*
 * The same reader in two steps, given no partitions: its configuration, made
 * from cfg now, and the client, made from it (which takes it) when needed. The
 * caller assigns what it wants read.
 */
rd_kafka_conf_t *pmhc_kafka_reader_conf(const struct pmhc_config *cfg, int gather_ms, char *err, size_t errlen);
rd_kafka_t *pmhc_kafka_reader_create(rd_kafka_conf_t *conf, const char *topic, char *err, size_t errlen);

/*
 * The end offsets (high watermarks) of the reader's partitions as of now, so
 * the caller can tell when it has read everything that was there at start.
 */
rd_kafka_topic_partition_list_t *pmhc_kafka_end_offsets(rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen);
#endif
