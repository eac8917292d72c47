#include "wire.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_1990 631152000000LL
#define MS_DAY 86400000LL

int pmhc_wire_time_plausible(int64_t ms, int64_t arrival_ms)
{
	return ms >= MS_1990 && ms <= arrival_ms + MS_DAY;
}

static void reject(struct pmhc_wire_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reject(struct pmhc_wire_report *rep, const char *fmt, ...)
{
	rep->status = PMHC_WIRE_REJECTED;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
	va_end(ap);
}

static void degrade(struct pmhc_wire_report *rep, unsigned kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void degrade(struct pmhc_wire_report *rep, unsigned kind, const char *fmt, ...)
{
	if (rep->status == PMHC_WIRE_REJECTED)
		return;
	if (rep->degraded == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
		va_end(ap);
	}
	rep->status = PMHC_WIRE_DEGRADED;
	rep->degraded |= kind;
}

static bool is_identifier(const ProtobufCFieldDescriptor *f)
{
	return strcmp(f->name, "call_id") == 0 || strcmp(f->name, "psap_id") == 0 || strcmp(f->name, "unit_id") == 0 ||
	       strcmp(f->name, "unit_ids") == 0;
}

/* The raw bytes with every bad sequence and NUL replaced by U+FFFD, NUL-terminated. */
static char *repair_text(const uint8_t *s, size_t len, ProtobufCAllocator *alloc)
{
	char *out = alloc->alloc(alloc->allocator_data, len * 3 + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = s[i] == 0 ? 0 : pmhc_utf8_decode(s + i, len - i, NULL);
		if (n == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}

/* A varint at *p; false when it runs past end or past ten bytes. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/*
 * Walks the raw bytes of a message protobuf-c has already accepted, to see
 * what decoding hides: a NUL inside a string (protobuf-c keeps the bytes but a
 * char * reader stops at it) and bytes that are not UTF-8. Repairs free text
 * in msg; rejects bad identifiers. Nested messages recurse.
 */
static void walk_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len, ProtobufCMessage *msg,
			 bool top, ProtobufCAllocator *alloc, struct pmhc_wire_report *rep)
{
	const uint8_t *p = buf, *end = buf + len;
	unsigned seen[64] = { 0 }; /* occurrences per field index, for repeated strings */

	while (p < end && rep->status != PMHC_WIRE_REJECTED) {
		uint64_t key, v;
		if (!read_varint(&p, end, &key))
			return; /* protobuf-c accepted it, so this cannot happen; stop quietly */
		unsigned wt = (unsigned)(key & 7);
		uint32_t num = (uint32_t)(key >> 3);
		if (wt == 0) {
			if (!read_varint(&p, end, &v))
				return;
			continue;
		}
		if (wt == 1 || wt == 5) {
			size_t skip = wt == 1 ? 8 : 4;
			if ((size_t)(end - p) < skip)
				return;
			p += skip;
			continue;
		}
		if (wt != 2 || !read_varint(&p, end, &v) || v > (uint64_t)(end - p))
			return;
		const uint8_t *val = p;
		size_t vlen = (size_t)v;
		p += vlen;

		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, num);
		if (f == NULL)
			continue;
		unsigned fi = (unsigned)(f - desc->fields);
		unsigned occurrence = fi < 64 ? seen[fi]++ : 0;
		char *field_ptr = (char *)msg + f->offset;

		if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) {
			ProtobufCMessage *sub = *(ProtobufCMessage **)field_ptr;
			if (sub != NULL)
				walk_strings(f->descriptor, val, vlen, sub, false, alloc, rep);
			continue;
		}
		if (f->type != PROTOBUF_C_TYPE_STRING)
			continue;

		bool has_nul = memchr(val, 0, vlen) != NULL;
		bool utf8 = pmhc_utf8_valid(val, vlen);
		if (top && is_identifier(f)) {
			if (has_nul)
				reject(rep, "%s holds a NUL byte", f->name);
			else if (!utf8)
				reject(rep, "%s is not valid UTF-8", f->name);
			else if (vlen > PMHC_ID_MAX)
				reject(rep, "%s is %zu bytes, longer than the %d allowed", f->name, vlen, PMHC_ID_MAX);
			else if (vlen == 0 && f->label == PROTOBUF_C_LABEL_REPEATED)
				reject(rep, "%s holds an empty identifier", f->name);
			continue;
		}
		if (!has_nul && utf8)
			continue;

		char **slot;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t count = *(size_t *)((char *)msg + f->quantifier_offset);
			if (occurrence >= count)
				continue;
			slot = &(*(char ***)field_ptr)[occurrence];
		} else {
			slot = (char **)field_ptr;
		}
		char *fixed = repair_text(val, vlen, alloc);
		if (fixed == NULL) {
			reject(rep, "out of memory repairing %s", f->name);
			return;
		}
		/* Singular: a later occurrence wins, as in protobuf; repairs follow the same order. */
		alloc->free(alloc->allocator_data, *slot);
		*slot = fixed;
		degrade(rep, PMHC_DEGRADE_TEXT, "%s was not valid UTF-8 text; bad bytes replaced", f->name);
	}
}

/* Unknown enum numbers → 0 (UNSPECIFIED / UNKNOWN), in msg and the messages it holds. */
static void clamp_enums(const ProtobufCMessageDescriptor *desc, ProtobufCMessage *msg, struct pmhc_wire_report *rep)
{
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		char *field_ptr = (char *)msg + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			continue; /* the contract has no repeated enums or messages */
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *sub = *(ProtobufCMessage **)field_ptr;
			if (sub != NULL)
				clamp_enums(f->descriptor, sub, rep);
		} else if (f->type == PROTOBUF_C_TYPE_ENUM) {
			int *value = (int *)field_ptr;
			if (protobuf_c_enum_descriptor_get_value(f->descriptor, *value) == NULL) {
				degrade(rep, PMHC_DEGRADE_ENUM, "%s has unknown value %d; treated as %s", f->name,
					*value, ((const ProtobufCEnumDescriptor *)f->descriptor)->values[0].name);
				*value = 0;
			}
		}
	}
}

static bool coords_absurd(double lat, double lon)
{
	return !isfinite(lat) || !isfinite(lon) || fabs(lat) > 90.0 || fabs(lon) > 180.0;
}

static void check_call(Pmhc__V1__CallEvent *c, int64_t arrival_ms, struct pmhc_wire_report *rep)
{
	if (c->call_id[0] == '\0')
		reject(rep, "call_id is empty");
	else if (c->psap_id[0] == '\0')
		reject(rep, "psap_id is empty");
	if (rep->status == PMHC_WIRE_REJECTED)
		return;
	if (c->location != NULL && coords_absurd(c->location->lat, c->location->lon)) {
		degrade(rep, PMHC_DEGRADE_COORDS, "location %g,%g is not on Earth; treated as unknown",
			c->location->lat, c->location->lon);
		c->location->lat = c->location->lon = 0;
	}
	if (!pmhc_wire_time_plausible(c->received_at_ms, arrival_ms)) {
		degrade(rep, PMHC_DEGRADE_TIME, "received_at_ms %lld is implausible; arrival time used",
			(long long)c->received_at_ms);
		c->received_at_ms = arrival_ms;
	}
}

static void check_unit(Pmhc__V1__UnitStatus *u, int64_t arrival_ms, struct pmhc_wire_report *rep)
{
	if (u->unit_id[0] == '\0')
		reject(rep, "unit_id is empty");
	else if (u->psap_id[0] == '\0')
		reject(rep, "psap_id is empty");
	if (rep->status == PMHC_WIRE_REJECTED)
		return;
	if (coords_absurd(u->lat, u->lon)) {
		degrade(rep, PMHC_DEGRADE_COORDS, "unit position %g,%g is not on Earth; treated as unknown", u->lat,
			u->lon);
		u->lat = u->lon = 0;
	}
	if (!pmhc_wire_time_plausible(u->at_ms, arrival_ms)) {
		degrade(rep, PMHC_DEGRADE_TIME, "at_ms %lld is implausible; arrival time used", (long long)u->at_ms);
		u->at_ms = arrival_ms;
	}
}

static void check_disposition(Pmhc__V1__Disposition *d, int64_t arrival_ms, struct pmhc_wire_report *rep)
{
	if (d->call_id[0] == '\0')
		reject(rep, "call_id is empty");
	else if (d->psap_id[0] == '\0')
		reject(rep, "psap_id is empty");
	if (rep->status == PMHC_WIRE_REJECTED)
		return;
	if (!pmhc_wire_time_plausible(d->closed_at_ms, arrival_ms)) {
		degrade(rep, PMHC_DEGRADE_TIME, "closed_at_ms %lld is implausible; arrival time used",
			(long long)d->closed_at_ms);
		d->closed_at_ms = arrival_ms;
	}
}

static void *sys_alloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

static void sys_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

static ProtobufCAllocator system_allocator = { sys_alloc, sys_free, NULL };

ProtobufCMessage *pmhc_wire_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
				   size_t max_len, int64_t arrival_ms, ProtobufCAllocator *alloc,
				   struct pmhc_wire_report *rep)
{
	memset(rep, 0, sizeof *rep);
	if (alloc == NULL)
		alloc = &system_allocator;
	if (len > max_len) {
		reject(rep, "message is %zu bytes, over the %zu-byte limit", len, max_len);
		return NULL;
	}
	ProtobufCMessage *msg = protobuf_c_message_unpack(desc, alloc, len, buf);
	if (msg == NULL) {
		reject(rep, "bytes do not decode as %s", desc->name);
		return NULL;
	}
	walk_strings(desc, buf, len, msg, true, alloc, rep);
	if (rep->status != PMHC_WIRE_REJECTED)
		clamp_enums(desc, msg, rep);
	if (rep->status != PMHC_WIRE_REJECTED) {
		if (desc == &pmhc__v1__call_event__descriptor)
			check_call((Pmhc__V1__CallEvent *)msg, arrival_ms, rep);
		else if (desc == &pmhc__v1__unit_status__descriptor)
			check_unit((Pmhc__V1__UnitStatus *)msg, arrival_ms, rep);
		else if (desc == &pmhc__v1__disposition__descriptor)
			check_disposition((Pmhc__V1__Disposition *)msg, arrival_ms, rep);
	}
	if (rep->status == PMHC_WIRE_REJECTED) {
		protobuf_c_message_free_unpacked(msg, alloc);
		return NULL;
	}
	return msg;
}

Pmhc__V1__CallEvent *pmhc_wire_call(const uint8_t *buf, size_t len, size_t max_len, int64_t arrival_ms,
				    ProtobufCAllocator *alloc, struct pmhc_wire_report *rep)
{
	return (Pmhc__V1__CallEvent *)pmhc_wire_decode(&pmhc__v1__call_event__descriptor, buf, len, max_len, arrival_ms,
						       alloc, rep);
}
