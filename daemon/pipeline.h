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

enum pmhc_mode {
	PMHC_MODE_LIVE,
	/*
	 * SPEC section 9: read topics.history from the beginning in its own group,
	 * decide and store every call and disposition as backfilled, publish no
	 * recommendation, choose no units, stop when every partition is read.
	 */
	PMHC_MODE_BACKFILL,
};

/*
 * Runs until sig->stop (or, backfilling, until caught up). Takes ownership of cfg (and of every config a reload
 * brings). Returns a sysexits code: 0 after a clean stop, 69 when Kafka or
 * PostgreSQL could not be reached at start, 70 on an internal failure.
 */
int pmhc_pipeline_run(struct pmhc_config *cfg, struct pmhc_signals *sig, enum pmhc_mode mode);

#endif
