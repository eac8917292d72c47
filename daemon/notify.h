/*
 * systemd's service protocol (sd_notify): READY once the store and the
 * consumer are up, RELOADING and READY around a reload, STOPPING, and the
 * watchdog's pings. Without NOTIFY_SOCKET (not under systemd) each is a no-op.
 */
#ifndef PMHC_NOTIFY_H
#define PMHC_NOTIFY_H

#include <stdint.h>

void pmhc_notify_ready(const char *status);
void pmhc_notify_reloading(void);
void pmhc_notify_stopping(void);

/*
 * Pings the watchdog when half its interval has passed since the last ping.
 * Called from the loop itself, never from a timer or another thread, so that
 * a loop that stops turning stops the pings and systemd restarts pmhcd.
 */
void pmhc_notify_watchdog(int64_t now_ms);

#endif
