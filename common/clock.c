#include "clock.h"

#include <time.h>

static int64_t clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pmhc_mono_ms(void)
{
	return clock_us(CLOCK_MONOTONIC) / 1000;
}

int64_t pmhc_wall_ms(void)
{
	return clock_us(CLOCK_REALTIME) / 1000;
}

int64_t pmhc_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

double pmhc_lap_ms(int64_t *since_us)
{
	int64_t now = clock_us(CLOCK_MONOTONIC);
	double ms = (double)(now - *since_us) / 1e3;

	*since_us = now;
	return ms;
}

void pmhc_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
