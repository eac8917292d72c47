/*
 * libFuzzer harness over what a hostile or broken CAD can reach (SPEC section 8):
 * decode + validate, then for a call screening, the flowchart, unit choice and
 * the packed Recommendation. The low two bits of the first byte pick the topic
 * (all four values mean something, so no input is wasted); the rest is the
 * Kafka payload:
 *   0  CallEvent (cad.calls) under the default rules
 *   1  UnitStatus (cad.units), applied to a roster of its own
 *   2  Disposition (cad.dispositions)
 *   3  CallEvent under the default rules with the narrative shared, the one
 *      policy switch that copies caller text into the Recommendation
 * Besides the sanitizers, it aborts when a promise of wire.h is broken for an
 * accepted message; see the checks below. Run: tests/fuzz/README.md.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "recommend.h"
#include "rules.h"
#include "units.h"
#include "utf8.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed arrival time: the harness must not depend on the clock to reproduce. */
#define ARRIVAL_MS 1763870400000LL
#define MAX_MESSAGE_BYTES 262144 /* limits.max_message_bytes' default */

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			check_failed(#cond, __LINE__);                                                                 \
	} while (0)

static void check_failed(const char *what, int line) __attribute__((noreturn));

static void check_failed(const char *what, int line)
{
	/* libFuzzer keeps the input that got here; the stack says which check. */
	fprintf(stderr, "fuzz_call.c:%d: broken invariant: %s\n", line, what);
	abort();
}

static bool text_ok(const char *s)
{
	return s != NULL && pmhc_utf8_valid((const uint8_t *)s, strlen(s));
}

/* Every string in msg and the messages it holds is UTF-8; every enum is one we know. */
static void check_message(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *field = (const char *)msg + f->offset;
		size_t n = 1;
		const void *items = field;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)msg + f->quantifier_offset);
			items = *(const void *const *)field;
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				CHECK(text_ok(((const char *const *)items)[k]));
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)items)[k];
				if (sub != NULL)
					check_message(sub);
			} else if (f->type == PROTOBUF_C_TYPE_ENUM) {
				int v = ((const int *)items)[k];
				CHECK(protobuf_c_enum_descriptor_get_value(f->descriptor, v) != NULL);
			}
		}
	}
}

/* A varint at *p, at most ten bytes; false when it runs past end. */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
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
 * The raw bytes of the nth occurrence of length-delimited top-level field num,
 * found without protobuf-c, so that a string protobuf-c cut at a NUL shows up.
 * Returns the number of occurrences, or -1 when the bytes are something this
 * small reader does not follow (then the caller checks nothing).
 */
static long raw_field(const uint8_t *buf, size_t len, uint32_t num, size_t nth, const uint8_t **val, size_t *vlen)
{
	const uint8_t *p = buf, *end = buf + len;
	long count = 0;
	while (p < end) {
		uint64_t key, v;
		if (!varint(&p, end, &key))
			return -1;
		switch (key & 7) {
		case 0:
			if (!varint(&p, end, &v))
				return -1;
			break;
		case 1:
		case 5:
			if ((size_t)(end - p) < ((key & 7) == 1 ? 8u : 4u))
				return -1;
			p += (key & 7) == 1 ? 8 : 4;
			break;
		case 2:
			if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
				return -1;
			if ((uint32_t)(key >> 3) == num && (size_t)count++ == nth) {
				*val = p;
				*vlen = (size_t)v;
			}
			p += v;
			break;
		default: return -1;
		}
	}
	return count;
}

/*
 * An accepted identifier is exactly the bytes the CAD sent, last occurrence
 * winning: non-empty, at most PMHC_ID_MAX bytes, UTF-8, and no NUL that would
 * make two CAD identifiers the same C string.
 */
static void check_id(const uint8_t *buf, size_t len, uint32_t num, size_t nth, long want_count, const char *got)
{
	const uint8_t *val = NULL;
	size_t vlen = 0;
	long count = raw_field(buf, len, num, want_count < 0 ? SIZE_MAX : nth, &val, &vlen);
	if (count < 0)
		return;
	if (want_count < 0) { /* singular: the last one */
		CHECK(count > 0);
		count = raw_field(buf, len, num, (size_t)count - 1, &val, &vlen);
	} else {
		CHECK(count == want_count);
	}
	CHECK(val != NULL);
	CHECK(vlen > 0 && vlen <= PMHC_ID_MAX);
	CHECK(memchr(val, 0, vlen) == NULL);
	CHECK(pmhc_utf8_valid(val, vlen));
	CHECK(strlen(got) == vlen && memcmp(got, val, vlen) == 0);
}

static bool coords_ok(double lat, double lon)
{
	return isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 && fabs(lon) <= 180.0;
}

static void check_report(const struct pmhc_wire_report *rep, bool accepted)
{
	CHECK(accepted == (rep->status != PMHC_WIRE_REJECTED));
	CHECK(memchr(rep->reason, 0, sizeof rep->reason) != NULL);
	if (rep->status != PMHC_WIRE_OK)
		CHECK(rep->reason[0] != '\0');
	/* A rejection may come after a repair, so only an accepted message is held to this. */
	if (accepted)
		CHECK((rep->status == PMHC_WIRE_DEGRADED) == (rep->degraded != 0));
}

static struct pmhc_rules *rules, *rules_narrative;
static struct pmhc_roster *roster;

static void add_unit(const char *id, int kind, const char *beat, double lat, double lon)
{
	Pmhc__V1__UnitStatus st = PMHC__V1__UNIT_STATUS__INIT;
	st.unit_id = (char *)id;
	st.psap_id = (char *)"TPS";
	st.kind = kind;
	st.state = PMHC__V1__UNIT_STATE__UNIT_AVAILABLE;
	st.at_ms = ARRIVAL_MS - 600000;
	st.beat = (char *)beat;
	st.district = (char *)"52";
	st.lat = lat;
	st.lon = lon;
	if (pmhc_roster_apply(roster, &st) != 1)
		abort();
}

/* prefix, then the two-byte character ch up to PMHC_ID_MAX bytes (prefix of even length). */
static void long_id(char *buf, const char *prefix, const char *ch)
{
	size_t n = strlen(prefix);
	memcpy(buf, prefix, n);
	while (n + 2 <= PMHC_ID_MAX) {
		memcpy(buf + n, ch, 2);
		n += 2;
	}
	buf[n] = '\0';
	if (n != PMHC_ID_MAX)
		abort();
}

/* Built once: decoding and deciding must not depend on anything a run leaves behind. */
static void setup(void)
{
	rules = pmhc_rules_default();
	rules_narrative = pmhc_rules_default();
	roster = pmhc_roster_new();
	if (rules == NULL || rules_narrative == NULL || roster == NULL)
		abort();
	rules_narrative->share_narrative = true;
	/*
	 * One of each kind but mobile crisis, so fallbacks are walked too; TPS as in
	 * the seeds. Two ids are as long as wire.c allows and not ASCII, so that a
	 * summary can outgrow its buffer and be cut inside a character.
	 */
	static char cit[PMHC_ID_MAX + 1], patrol[PMHC_ID_MAX + 1];
	long_id(cit, "CIT-", "\xc3\xbc");  /* u-umlaut */
	long_id(patrol, "P-", "\xc3\xb6"); /* o-umlaut */
	add_unit(cit, PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER, "52-3", 43.6525, -79.3839);
	add_unit("CIT-8", PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER, "14-1", 43.70, -79.40);
	add_unit("P-21", PMHC__V1__UNIT_KIND__UNIT_PATROL, "51-1", 43.66, -79.39);
	add_unit(patrol, PMHC__V1__UNIT_KIND__UNIT_PATROL, "52-3", 0, 0);
	add_unit("COR-2", PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER, "52-3", 43.65, -79.38);
	add_unit("EMS-1", PMHC__V1__UNIT_KIND__UNIT_EMS, "14-1", 43.70, -79.40);
}

static void fuzz_call(const uint8_t *buf, size_t len, const struct pmhc_rules *r)
{
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *call = pmhc_wire_call(buf, len, MAX_MESSAGE_BYTES, ARRIVAL_MS, NULL, &rep);
	check_report(&rep, call != NULL);
	if (call == NULL)
		return;
	check_id(buf, len, 1, 0, -1, call->call_id);
	check_id(buf, len, 2, 0, -1, call->psap_id);
	check_message(&call->base);
	CHECK(pmhc_wire_time_plausible(call->received_at_ms, ARRIVAL_MS));
	if (call->location != NULL)
		CHECK(coords_ok(call->location->lat, call->location->lon));

	struct pmhc_decision d;
	pmhc_decide(r, call, &d);
	CHECK(d.rule != NULL);
	struct pmhc_choice choice;
	pmhc_units_choose(roster, &r->units, call, d.rule->response, ARRIVAL_MS + 1000, &choice);
	CHECK(choice.n <= PMHC_NEEDS_MAX);
	static struct pmhc_rec_scratch s; /* as in the daemon: one scratch, reused */
	pmhc_recommend(r, call, &d, &choice, ARRIVAL_MS + 1000, &s);

	size_t need = pmhc__v1__recommendation__get_packed_size(&s.rec);
	uint8_t *out = malloc(need ? need : 1);
	if (out == NULL)
		abort();
	CHECK(pmhc__v1__recommendation__pack(&s.rec, out) == need);
	/* What the dispatcher's screen and other-language consumers will parse. */
	Pmhc__V1__Recommendation *back = pmhc__v1__recommendation__unpack(NULL, need, out);
	CHECK(back != NULL);
	check_message(&back->base);
	CHECK(strcmp(back->call_id, call->call_id) == 0 && strcmp(back->psap_id, call->psap_id) == 0);
	CHECK(strcmp(back->rule_id, d.rule->id) == 0);
	pmhc__v1__recommendation__free_unpacked(back, NULL);
	free(out);

	/* Holds would make the next input's choice depend on this one. */
	pmhc_roster_release_call(roster, call->psap_id, call->call_id);
	pmhc__v1__call_event__free_unpacked(call, NULL);
}

static void fuzz_unit(const uint8_t *buf, size_t len)
{
	struct pmhc_wire_report rep;
	Pmhc__V1__UnitStatus *st = (Pmhc__V1__UnitStatus *)pmhc_wire_decode(
		&pmhc__v1__unit_status__descriptor, buf, len, MAX_MESSAGE_BYTES, ARRIVAL_MS, NULL, &rep);
	check_report(&rep, st != NULL);
	if (st == NULL)
		return;
	check_id(buf, len, 1, 0, -1, st->unit_id);
	check_id(buf, len, 2, 0, -1, st->psap_id);
	check_message(&st->base);
	CHECK(pmhc_wire_time_plausible(st->at_ms, ARRIVAL_MS));
	CHECK(coords_ok(st->lat, st->lon));

	struct pmhc_roster *own = pmhc_roster_new();
	if (own == NULL)
		abort();
	CHECK(pmhc_roster_apply(own, st) == 1);
	const struct pmhc_unit *u = pmhc_roster_find(own, st->psap_id, st->unit_id);
	CHECK(u != NULL && u->kind == (int)st->kind && u->state == (int)st->state);
	pmhc_roster_free(own);
	pmhc__v1__unit_status__free_unpacked(st, NULL);
}

static void fuzz_disposition(const uint8_t *buf, size_t len)
{
	struct pmhc_wire_report rep;
	Pmhc__V1__Disposition *d = (Pmhc__V1__Disposition *)pmhc_wire_decode(
		&pmhc__v1__disposition__descriptor, buf, len, MAX_MESSAGE_BYTES, ARRIVAL_MS, NULL, &rep);
	check_report(&rep, d != NULL);
	if (d == NULL)
		return;
	check_id(buf, len, 1, 0, -1, d->call_id);
	check_id(buf, len, 2, 0, -1, d->psap_id);
	for (size_t i = 0; i < d->n_unit_ids; i++)
		check_id(buf, len, 4, i, (long)d->n_unit_ids, d->unit_ids[i]);
	check_message(&d->base);
	CHECK(pmhc_wire_time_plausible(d->closed_at_ms, ARRIVAL_MS));
	pmhc_roster_release_call(roster, d->psap_id, d->call_id);
	pmhc__v1__disposition__free_unpacked(d, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rules == NULL)
		setup();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0: fuzz_call(data + 1, size - 1, rules); break;
	case 1: fuzz_unit(data + 1, size - 1); break;
	case 2: fuzz_disposition(data + 1, size - 1); break;
	default: fuzz_call(data + 1, size - 1, rules_narrative); break;
	}
	return 0;
}
