/*
 * Caps on what one input may carry, past which it is degraded, never
 * rejected (SPEC section 8): a live call must still be routed. Free text is
 * cut at a character boundary, a repeated field keeps its first elements.
 * They bound what a row, a summary and the backlog hold per input, whatever
 * limits.max_message_bytes lets through. Pure.
 */
#ifndef PMHC_CAPS_H
#define PMHC_CAPS_H

#include <stddef.h>

#include "pmhc.pb-c.h"

/* The longest free text kept (nature_text, narrative, address, service_name), in bytes. */
#define PMHC_TEXT_MAX 8192
/* The most elements of a repeated field kept (premise_flags, a disposition's unit_ids). */
#define PMHC_LIST_MAX 64
/* The longest premise flag kept: a CAD flag name, not text. */
#define PMHC_FLAG_MAX 128

/*
 * Cuts what is over the caps, in place (strings are only shortened, arrays
 * only counted down). Returns how many fields were cut; the first is named in
 * why (a NUL-terminated reason, cut to len) when any.
 */
unsigned pmhc_caps_call(Pmhc__V1__CallEvent *c, char *why, size_t len);
unsigned pmhc_caps_disposition(Pmhc__V1__Disposition *d, char *why, size_t len);

#endif
