/*
 * The one place pmhcd and its tools read the clock. The pure core (libpmhc) never
 * does: time reaches it as an argument, so its results depend on its inputs alone.
 */
#ifndef PMHC_CLOCK_H
#define PMHC_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC: for intervals and deadlines, never stored. */
int64_t pmhc_mono_ms(void);

/* Milliseconds since the epoch on CLOCK_REALTIME: for what is stored or published. */
int64_t pmhc_wall_ms(void);

/* Milliseconds elapsed since *since (CLOCK_MONOTONIC, in µs), which moves on to now. */
double pmhc_lap_ms(int64_t *since_us);

/* Microseconds on CLOCK_MONOTONIC, the start of a pmhc_lap_ms series. */
int64_t pmhc_mono_us(void);

/* Sleeps ms milliseconds; a signal ends it early, which the callers' loops expect. */
void pmhc_sleep_ms(long ms);

/*
 * The next wait of a capped exponential backoff: twice the last, never above cap.
 * Each retry loop names its own floor and cap, since a PostgreSQL reconnect and a
 * batch retry want different ones.
 */
static inline long pmhc_backoff_next(long last_ms, long cap_ms)
{
	return last_ms > cap_ms / 2 ? cap_ms : last_ms * 2;
}

#endif
