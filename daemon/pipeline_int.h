/*
 * The loop's own state, shared by the files that make up the pipeline:
 * pipeline.c (the loop), intake.c, outbox.c and backfill.c. Only those include
 * this header; batch.c and writer.c do not need it and must not, so the batch
 * and the writer stay plain parts the loop drives.
 */
#ifndef PMHC_PIPELINE_INT_H
#define PMHC_PIPELINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "batch.h"
#include "config.h"
#include "holds.h"
#include "kafka.h"
#include "metrics.h"
#include "pipeline.h"
#include "recheck.h"
#include "recommend.h"
#include "redeliver.h"
#include "writer.h"

#define MS_PER_S 1000

/* Room for an error from librdkafka or our own Kafka setup; a longer one is cut. */
#define PMHC_ERR_LEN 512

struct pipeline_stats {
	unsigned long calls, mh, rejected, degraded, stale, written, recs, recs_failed, dlq_resent;
	unsigned long unit_statuses, units_out_of_order, units_rejected, fallbacks, dispositions;
	unsigned long unknown_nature; /* calls whose mapped nature code no table or alias knows */
	unsigned long stale_skipped;  /* of stale: caught in memory, never re-published */
	unsigned long recs_landed;    /* of recs_failed: found on the topic after all, not sent again (recheck.c) */
	unsigned long by_response[PMHC_METRICS_RESPONSES]; /* calls decided, by the response recommended */
};

/* Backfill: which assigned partitions have been read to their end. */
/* Room for the consumer's group name (struct pipeline.group). */
#define PIPELINE_GROUP_LEN 256

struct backfill_progress {
	bool *at_end;
	size_t n_at_end_slots, assigned, not_at_end;
	bool caught_up; /* every partition read to its end and stored: the final pass is due */
};

struct pipeline {
	struct pmhc_config *cfg;
	enum pmhc_mode mode;
	struct backfill_progress bf;
	struct pmhc_signals *sig;
	rd_kafka_t *consumer, *producer;
	rd_kafka_t *units_reader; /* all of cad.units, outside the group */
	struct pmhc_roster *roster;
	struct pmhc_holds *holds;         /* the other instances' unit holds; NULL when not shared */
	char instance[PMHC_INSTANCE_LEN]; /* this process, on every recommendation it publishes */
	struct pmhc_revcache *revisions;  /* what this process already decided */
	struct pmhc_repeats *repeats;     /* backfill: the MH calls read so far, for a first guess at repeat flags */
	struct pmhc_writer w;
	struct pmhc_batch *current;
	bool paused;
	size_t backlog_peak; /* events queued for the writer at most since the last trim */
	struct pipeline_stats st;
	int64_t started_ms, last_stats_ms;
	struct pmhc_rec_scratch scratch;
	uint8_t *packbuf; /* outbox.c: a recommendation, packed */
	size_t packcap;
	struct pmhc_held *held;       /* redeliver.c: messages to send again, oldest first */
	struct pmhc_held **held_tail; /* where the next one goes; NULL means &held */
	struct pmhc_recheck *recheck; /* looks for a possibly written one on the topic before it is sent again */
	unsigned long fatal_after;    /* outbox.c: a test's fatal producer error, 0 for none */
	long fatal_delay_ms;          /* outbox.c: and how long after that recommendation it comes */
	int64_t fatal_at_ms;          /* outbox.c: when it is due, 0 when not */
	int64_t renew_after_ms;       /* outbox.c: no new producer tried before this */
	unsigned long renew_failures; /* outbox.c: new producers that could not be made in a row */
	/* observe.c: what an operator sees; metrics NULL when http.listen is unset. */
	struct pmhc_metrics *metrics;
	struct pmhc_http *http;
	int64_t last_publish_ms;
	/* The consumer's group: kafka.group_id, with "-backfill" in backfill; a longer one is cut. */
	char group[PIPELINE_GROUP_LEN];
	/* intake.c: the last authorizations Kafka refused the consumer and the units reader. */
	struct pmhc_kafka_refusals consumer_refused, units_refused;
	bool assigned;             /* the group gave this member its partitions (perhaps none) */
	int64_t stop_deadline_ms;  /* CLOCK_MONOTONIC by when a stop must be done; 0 while running */
	int64_t drain_deadline_ms; /* and by when its drain must give up, leaving time to close */
	int exit_code;             /* what a stop the loop chose returns */
};

/* The batch being filled, opened when the first input arrives; NULL when out of memory (logged). */
struct pmhc_batch *pmhc_pipeline_batch(struct pipeline *p);

/* Hands the batch being filled, if it holds anything, to the writer. */
void pmhc_pipeline_seal(struct pipeline *p);

#endif
