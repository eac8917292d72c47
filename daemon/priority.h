#ifndef PMHC_PRIORITY_H
#define PMHC_PRIORITY_H

#include <librdkafka/rdkafka.h>

/*
 * A call waits on pmhcd's main thread and on the librdkafka threads of its
 * consumer and producer. The writer and the readers of cad.units and of the
 * others' recommendations work for throughput: they run at a lower priority
 * (nice +10, per thread), so that a burst of theirs does not hold a decision
 * back on a busy machine. Lowering one's own priority needs no privilege.
 */
#define PMHC_BACKGROUND_NICE 10

/* The calling thread yields to the decision path; failure is logged, never fatal. */
void pmhc_priority_background(const char *what);

/* Every thread librdkafka starts for a client made from conf yields likewise. */
void pmhc_priority_background_kafka(rd_kafka_conf_t *conf);

#endif
