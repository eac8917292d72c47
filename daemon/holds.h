/*
 * The unit holds of the other pmhcd instances in the group. Each instance decides
 * the calls of its own partitions, but every instance recommends from the same
 * roster: without this, two of them could send one free unit to two calls in the
 * same second. Every instance reads all of topics.recommendations outside the
 * group, as it reads cad.units, and holds what the others recommended. Its own
 * recommendations (told by their pmhc-instance header) it already holds.
 */
#ifndef PMHC_HOLDS_H
#define PMHC_HOLDS_H

#include <stddef.h>

#include "config.h"
#include "units.h"

/* The header naming the instance that published a recommendation. */
#define PMHC_INSTANCE_HEADER "pmhc-instance"

/* "host/pid/start-ms": unique to one process, readable in a log. */
#define PMHC_INSTANCE_LEN 128

struct pmhc_holds;

/* Fills id with this process's instance name. */
void pmhc_holds_instance_name(char id[PMHC_INSTANCE_LEN]);

/*
 * A reader of every partition of the recommendations topic, from what was
 * published within the last hold_ms (an older hold has run out), skipping what
 * instance published. NULL with err filled when Kafka cannot be reached in
 * timeout_ms.
 */
struct pmhc_holds *pmhc_holds_open(const struct pmhc_config *cfg, const char *instance, int timeout_ms, char *err,
				   size_t errlen);

/* Applies up to max recommendations that have arrived, without waiting; returns how many. */
size_t pmhc_holds_apply(struct pmhc_holds *h, struct pmhc_roster *roster, int max);

/* Holds learned and recommendations read (the others' and this instance's own), for the stats line. */
void pmhc_holds_counts(const struct pmhc_holds *h, unsigned long *learned, unsigned long *read);

void pmhc_holds_close(struct pmhc_holds *h);

#endif
