/*
 * The loop that moves calls through the rooms: Kafka → wire → decide →
 * recommendation out at once; the batch → a writer thread → PostgreSQL; and
 * only then the input offsets. Live decisions never wait for the database.
 */
#ifndef PMHC_PIPELINE_H
#define PMHC_PIPELINE_H

#include <signal.h>

#include "config.h"

struct pmhc_signals {
	volatile sig_atomic_t stop;
	volatile sig_atomic_t reload;
};

/*
 * Runs until sig->stop. Takes ownership of cfg (and of every config a reload
 * brings). Returns a sysexits code: 0 after a clean stop, 69 when Kafka or
 * PostgreSQL could not be reached at start, 70 on an internal failure.
 */
int pmhc_pipeline_run(struct pmhc_config *cfg, struct pmhc_signals *sig);

#endif
