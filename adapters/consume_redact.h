/*
 * pmhc-consume --redact: what identifies a person or a place, hidden from a
 * printed message and from its headers. The DLQ keeps rejected input byte for
 * byte, raw subject keys and narratives included; an operator looking into it
 * should not have them on the screen or in a ticket.
 */
#ifndef PMHC_CONSUME_REDACT_H
#define PMHC_CONSUME_REDACT_H

#include <stddef.h>

#include <json-c/json.h>

/* What a hidden value is printed as. */
#define PMHC_REDACTED "[redacted]"

/* The values hidden from one message, to hide them from its headers too. */
struct pmhc_redacted {
	char **values;
	size_t n, cap;
};

/*
 * Replaces, at any depth of o (a message as pmhc_message_to_json makes it), the
 * members that hold a person's or a place's details with PMHC_REDACTED:
 * subject_key, call_taker_id, narrative, nature_text, address, premise_id, lat,
 * lon; and a recommendation's "narrative: ..." reason. Each hidden string goes
 * into seen (may be NULL).
 */
void pmhc_redact_json(json_object *o, struct pmhc_redacted *seen);

/*
 * A header value with every value of seen in it replaced by PMHC_REDACTED (a
 * refusal's text can quote the row it refused); malloc'd, NULL when out of memory.
 */
char *pmhc_redact_text(const char *text, size_t len, const struct pmhc_redacted *seen);

void pmhc_redacted_clear(struct pmhc_redacted *seen);

#endif
