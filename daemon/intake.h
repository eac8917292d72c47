/*
 * The intake: each input as it arrives, decoded and checked by wire.c, then
 * handled. A call is decided, its recommendation handed to the outbox at once,
 * and its row added to the batch; a disposition frees its call's units and
 * becomes a row; a unit status moves the roster and becomes a row. What wire.c
 * refuses goes to the DLQ through the outbox.
 */
#ifndef PMHC_INTAKE_H
#define PMHC_INTAKE_H

#include <librdkafka/rdkafka.h>

struct pipeline;

/* One message of the group's topics (live: calls or dispositions; backfill: history). */
void pmhc_intake_message(struct pipeline *p, const rd_kafka_message_t *m);

/* Applies what the units reader has, without waiting; at most max, so calls are never starved. */
void pmhc_intake_units(struct pipeline *p, int max);

/* Reads cad.units up to where it ended at start, so no call is decided on a partial roster. 0 or -1. */
int pmhc_intake_rebuild_roster(struct pipeline *p);

#endif
