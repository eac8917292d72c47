/*
 * Before a recommendation the producer gave up on as "possibly persisted" is
 * sent again, a thread of its own reads its partition to see whether the broker
 * kept it after all (libpmhc/landed.h says how it decides). Found, it is not
 * sent again: this process never publishes one (call, revision) twice. The
 * reading blocks (metadata, offsets by time), so it is kept off the main loop,
 * which only asks and, each step, collects the answers.
 */
#ifndef PMHC_RECHECK_H
#define PMHC_RECHECK_H

#include <stdbool.h>

#include "config.h"
#include "landed.h"

struct pmhc_recheck;
struct pmhc_recheck_job;

enum pmhc_recheck_answer {
	PMHC_RECHECK_PENDING,
	PMHC_RECHECK_LANDED, /* on the topic: counted delivered, not sent again */
	PMHC_RECHECK_ABSENT, /* not there, and it will not come: send it again */
};

/* Starts the thread; NULL with err filled when it cannot. */
struct pmhc_recheck *pmhc_recheck_open(const struct pmhc_config *cfg, char *err, size_t errlen);

/*
 * Asks whether w's message landed on the recommendations topic (named when
 * the checker opened; only a restart changes it). The job keeps the pointers
 * in w (the caller's copies of key, value and instance) until its answer is
 * collected or the checker is closed. NULL when out of memory.
 */
struct pmhc_recheck_job *pmhc_recheck_ask(struct pmhc_recheck *r, const struct pmhc_landed_want *w);

/* The job's answer; once it is not PENDING the job is freed and must not be asked again. */
enum pmhc_recheck_answer pmhc_recheck_collect(struct pmhc_recheck *r, struct pmhc_recheck_job *j);

/* Stops the thread (within a lookup, two seconds at most) and frees every job, answered or not. */
void pmhc_recheck_close(struct pmhc_recheck *r);

#endif
