/*
 * Decode and validate one Kafka payload (SPEC section 8). protobuf-c checks
 * nothing a dispatch center cares about (UTF-8, NULs, enum ranges, sane values),
 * so every such check lives here. Pure: the arrival time is passed in.
 *
 * Rejected: does not decode; over the size limit; an identifier (call_id,
 * psap_id, unit_id) empty, too long, not UTF-8 or holding a NUL.
 * Degraded (still routed): unknown enum numbers → 0; absurd coordinates →
 * unknown; absurd timestamps → arrival time; bad UTF-8 or NUL in free text →
 * U+FFFD.
 */
#ifndef PMHC_WIRE_H
#define PMHC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "pmhc.pb-c.h"
#include "utf8.h" /* pmhc_utf8_valid was declared here; its callers still find it */

enum pmhc_wire_status {
	PMHC_WIRE_OK,
	PMHC_WIRE_DEGRADED,
	PMHC_WIRE_REJECTED,
};

/* What was repaired, as bits, so the daemon can count each kind. */
enum {
	PMHC_DEGRADE_ENUM = 1u << 0,
	PMHC_DEGRADE_COORDS = 1u << 1,
	PMHC_DEGRADE_TIME = 1u << 2,
	PMHC_DEGRADE_TEXT = 1u << 3,
};

#define PMHC_ID_MAX 128 /* bytes in an identifier; longer is refused */

struct pmhc_wire_report {
	enum pmhc_wire_status status;
	unsigned degraded;
	/* Rejected: the reason (the DLQ's pmhc-reason). Degraded: the first repair. */
	char reason[200];
};

/*
 * Decodes buf as a message of desc with alloc (NULL = malloc) and applies the
 * checks above. Returns the message, or NULL when rejected. Free the message
 * with protobuf_c_message_free_unpacked(msg, alloc).
 */
ProtobufCMessage *pmhc_wire_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
				   size_t max_len, int64_t arrival_ms, ProtobufCAllocator *alloc,
				   struct pmhc_wire_report *rep);

/* Typed wrappers. */
Pmhc__V1__CallEvent *pmhc_wire_call(const uint8_t *buf, size_t len, size_t max_len, int64_t arrival_ms,
				    ProtobufCAllocator *alloc, struct pmhc_wire_report *rep);

/* A timestamp we believe: after 1990 and not more than a day past arrival. */
int pmhc_wire_time_plausible(int64_t ms, int64_t arrival_ms);

#endif
