/*
 * render — one recommendation as a block of text for a dispatcher's terminal.
 *
 *   14:02:07  TPS/24-000102  rev 1  beat 51-1  CIT_WITH_BACKUP  MH-CITB
 *            units: CIT-7, P-12  flags: MH WEAPON PREMISE_MH
 *            Mental-health call (weapon reported): send a CIT officer with
 *            patrol backup, code MH-CITB; ...
 *
 * No Kafka and no clock: everything it shows comes in the block, so the layout can be
 * tried on its own. Every string from the wire is cleaned before it reaches the
 * terminal: control characters (an ESC could rewrite the dispatcher's screen) become
 * '?', invalid UTF-8 becomes U+FFFD.
 */
#ifndef PMHC_RENDER_H
#define PMHC_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include "pmhc.pb-c.h"

enum pmhc_watch_mark {
	PMHC_WATCH_MARK_NONE,
	PMHC_WATCH_MARK_SUPERSEDES, /* a newer revision of a call already shown */
	PMHC_WATCH_MARK_STALE,      /* an older revision, after a newer one was shown */
};

struct pmhc_watch_block {
	const Pmhc__V1__Recommendation *rec;
	const char *beat;       /* NULL: the call event is not known; "": it has no beat */
	int64_t received_at_ms; /* the call's; 0: not known */
	enum pmhc_watch_mark mark;
	uint32_t mark_revision; /* the revision superseded, or the newer one shown */
};

/* Columns a block is laid out for; narrower requests are widened to this. */
#define PMHC_WATCH_MIN_WIDTH 40

/*
 * Writes block B to OUT, no line wider than WIDTH columns (a single word wider than a
 * line is broken). COLOR: use ANSI colours and bold. UTF8: the terminal takes UTF-8,
 * so the marks may use an em dash. Local time as set by TZ.
 */
void pmhc_watch_render(FILE *out, const struct pmhc_watch_block *b, int width, int color, int utf8);

#endif
