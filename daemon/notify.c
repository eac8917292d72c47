#include "notify.h"

#include <stdbool.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "log.h"

#define US_PER_MS 1000

/* Room for "READY=1\nSTATUS=" and a short status line. */
#define NOTIFY_LEN 256

/* Pinged at half of WatchdogSec=: one late ping is not yet a restart. */
#define PING_DIVISOR 2

/* Read once: the environment does not change under a running process. */
static int64_t watchdog_every_ms = -1; /* -1 not asked yet, 0 off */
static int64_t last_ping_ms;

static void tell(const char *state)
{
	int e = sd_notify(0, state);
	if (e < 0)
		pmhc_warn("msg=\"sd_notify failed\" state=\"%.*s\" error=%d", 16, state, -e);
}

void pmhc_notify_ready(const char *status)
{
	char msg[NOTIFY_LEN];
	snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status);
	tell(msg);
}

void pmhc_notify_reloading(void)
{
	tell("RELOADING=1");
}

void pmhc_notify_stopping(void)
{
	tell("STOPPING=1");
}

void pmhc_notify_watchdog(int64_t now_ms)
{
	if (watchdog_every_ms < 0) {
		uint64_t usec = 0;
		watchdog_every_ms = sd_watchdog_enabled(0, &usec) > 0 ? (int64_t)(usec / US_PER_MS) / PING_DIVISOR : 0;
	}
	if (watchdog_every_ms == 0 || now_ms - last_ping_ms < watchdog_every_ms)
		return;
	last_ping_ms = now_ms;
	tell("WATCHDOG=1");
}
