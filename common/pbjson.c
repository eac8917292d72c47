/*
 * pbjson — generic json-c <-> protobuf-c conversion driven by the descriptors.
 * See pbjson.h for the accepted and produced forms.
 *
 * Ownership: every message, string, byte buffer and repeated array this file builds is
 * malloc'd and hung into its parent as soon as it exists, so that
 * protobuf_c_message_free_unpacked(msg, NULL) frees a message completely, also one left
 * half-built by an error.
 */
#include "pbjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Conversion state: where the error goes, and the path of the field being converted. */
struct conv {
	char *err;
	size_t errlen;
	char path[256];
	size_t pathlen;
};

static void fail(struct conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct conv *c, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	if (c->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->pathlen > 0)
		snprintf(c->err, c->errlen, "field \"%s\": %s", c->path, what);
	else
		snprintf(c->err, c->errlen, "%s", what);
}

/* Appends ".name" (or "name" at the top) to the path; returns the length to restore. */
static size_t path_push_name(struct conv *c, const char *name)
{
	size_t old = c->pathlen;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", name);

	if (n > 0)
		c->pathlen = old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

static size_t path_push_index(struct conv *c, size_t i)
{
	size_t old = c->pathlen;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);

	if (n > 0)
		c->pathlen = old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

static void path_pop(struct conv *c, size_t old)
{
	c->pathlen = old;
	c->path[old] = '\0';
}

/* A short description of a JSON value for error messages: "a string \"abc\"", "an array". */
static void describe(json_object *v, char *buf, size_t len)
{
	switch (json_object_get_type(v)) {
	case json_type_null: snprintf(buf, len, "null"); break;
	case json_type_boolean: snprintf(buf, len, "%s", json_object_get_boolean(v) ? "true" : "false"); break;
	case json_type_int:
	case json_type_double: snprintf(buf, len, "the number %s", json_object_to_json_string(v)); break;
	case json_type_string:
		if (json_object_get_string_len(v) > 40)
			snprintf(buf, len, "a string \"%.37s...\"", json_object_get_string(v));
		else
			snprintf(buf, len, "a string \"%s\"", json_object_get_string(v));
		break;
	case json_type_object: snprintf(buf, len, "an object"); break;
	case json_type_array: snprintf(buf, len, "an array"); break;
	}
}

static void fail_type(struct conv *c, json_object *v, const char *expected)
{
	char got[64];

	describe(v, got, sizeof(got));
	fail(c, "expected %s, got %s", expected, got);
}

/* Size of one element of a repeated field in the generated C struct. */
static size_t element_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM: return sizeof(int32_t);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* ---- base64 (RFC 4648, standard alphabet) ---- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char ch)
{
	const char *p = ch ? strchr(b64_alphabet, ch) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

/* Decodes s into a malloc'd buffer; -1 if s is not base64 (or memory runs out). */
static int b64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	uint32_t acc = 0;
	size_t n = 0, bits = 0, i;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	buf = malloc(len * 3 / 4 + 1);
	if (!buf)
		return -1;
	for (i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	*out = buf;
	*outlen = n;
	return 0;
}

static json_object *b64_encode(const uint8_t *data, size_t len)
{
	json_object *o;
	char *buf = malloc((len + 2) / 3 * 4 + 1);
	size_t i, n = 0;

	if (!buf)
		return NULL;
	for (i = 0; i < len; i += 3) {
		uint32_t acc = (uint32_t)data[i] << 16;

		if (i + 1 < len)
			acc |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			acc |= data[i + 2];
		buf[n++] = b64_alphabet[(acc >> 18) & 63];
		buf[n++] = b64_alphabet[(acc >> 12) & 63];
		buf[n++] = i + 1 < len ? b64_alphabet[(acc >> 6) & 63] : '=';
		buf[n++] = i + 2 < len ? b64_alphabet[acc & 63] : '=';
	}
	buf[n] = '\0';
	o = json_object_new_string_len(buf, (int)n);
	free(buf);
	return o;
}

/* ---- JSON -> message ---- */

/* An integer read from JSON: value = neg ? -mag : mag. */
struct jint {
	int neg;
	uint64_t mag;
};

struct int_range {
	int is_signed;
	unsigned bits;
	const char *name;
};

static struct int_range int_range_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return (struct int_range){ 1, 32, "a 32-bit integer (-2147483648..2147483647)" };
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return (struct int_range){ 1, 64,
					   "a 64-bit integer (-9223372036854775808.."
					   "9223372036854775807)" };
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return (struct int_range){ 0, 32, "an unsigned 32-bit integer (0..4294967295)" };
	default:
		return (struct int_range){ 0, 64,
					   "an unsigned 64-bit integer "
					   "(0..18446744073709551615)" };
	}
}

/* Parses an optional '-' and decimal digits, nothing else; -1 if not that or > 2^64-1. */
static int parse_digits(const char *s, struct jint *out)
{
	uint64_t mag = 0;

	out->neg = (*s == '-');
	if (out->neg)
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (mag > (UINT64_MAX - d) / 10)
			return -1;
		mag = mag * 10 + d;
	}
	out->mag = mag;
	return 0;
}

/* Reads an integer of type t from v and stores it at slot. */
static int set_integer(struct conv *c, json_object *v, ProtobufCType t, void *slot)
{
	struct int_range r = int_range_of(t);
	struct jint j;
	uint64_t max_pos, max_neg;

	switch (json_object_get_type(v)) {
	case json_type_int: {
		int64_t s = json_object_get_int64(v);

		/*
		 * json-c saturates numbers beyond 64 bits instead of failing: above 2^64-1 we
		 * see UINT64_MAX (refused, as it is ambiguous); below -2^63 we see INT64_MIN,
		 * which is accepted (it cannot be told apart from INT64_MIN itself).
		 */
		if (s == INT64_MAX && json_object_get_uint64(v) == UINT64_MAX) {
			fail(c,
			     "%s is at the limit of what the JSON reader holds; expected %s "
			     "(write a number this large as a string of digits)",
			     json_object_to_json_string(v), r.name);
			return -1;
		}
		j.neg = s < 0;
		j.mag = s < 0 ? (uint64_t)(-(s + 1)) + 1 : json_object_get_uint64(v);
		break;
	}
	case json_type_double: {
		double d = json_object_get_double(v);

		if (!isfinite(d) || d != trunc(d) || d <= -9223372036854775808.0 || d >= 18446744073709551616.0) {
			fail_type(c, v, r.name);
			return -1;
		}
		j.neg = d < 0;
		j.mag = d < 0 ? (uint64_t)-d : (uint64_t)d;
		break;
	}
	case json_type_string:
		if (parse_digits(json_object_get_string(v), &j) < 0) {
			fail(c,
			     "expected %s, got the string \"%.40s\", which is not a decimal integer "
			     "(or is beyond 64 bits)",
			     r.name, json_object_get_string(v));
			return -1;
		}
		break;
	default: fail_type(c, v, r.name); return -1;
	}

	max_pos = r.is_signed ? (UINT64_C(1) << (r.bits - 1)) - 1
			      : (r.bits == 64 ? UINT64_MAX : (UINT64_C(1) << r.bits) - 1);
	max_neg = r.is_signed ? UINT64_C(1) << (r.bits - 1) : 0;
	if ((j.neg && j.mag > max_neg) || (!j.neg && j.mag > max_pos)) {
		fail(c, "%s%" PRIu64 " is out of range: expected %s", j.neg ? "-" : "", j.mag, r.name);
		return -1;
	}

	if (r.is_signed) {
		int64_t val = j.neg ? (int64_t)(0 - j.mag) : (int64_t)j.mag;

		if (r.bits == 32)
			*(int32_t *)slot = (int32_t)val;
		else
			*(int64_t *)slot = val;
	} else if (r.bits == 32) {
		*(uint32_t *)slot = (uint32_t)j.mag;
	} else {
		*(uint64_t *)slot = j.mag;
	}
	return 0;
}

static int set_floating(struct conv *c, json_object *v, ProtobufCType t, void *slot)
{
	const char *want = t == PROTOBUF_C_TYPE_FLOAT ? "a number (float)" : "a number (double)";
	double d;

	switch (json_object_get_type(v)) {
	case json_type_int:
		d = json_object_get_int64(v) < 0 ? (double)json_object_get_int64(v) : (double)json_object_get_uint64(v);
		break;
	case json_type_double: d = json_object_get_double(v); break;
	case json_type_string: {
		/* proto3 JSON writes NaN and infinities as strings; accept numbers in strings too. */
		const char *s = json_object_get_string(v);
		char *end;

		errno = 0;
		d = strtod(s, &end);
		if (*s == '\0' || *s == ' ' || *end != '\0' || errno == ERANGE) {
			fail_type(c, v, want);
			return -1;
		}
		break;
	}
	default: fail_type(c, v, want); return -1;
	}

	if (t == PROTOBUF_C_TYPE_FLOAT) {
		if (isfinite(d) && fabs(d) > FLT_MAX) {
			fail(c, "%g is out of range for a float", d);
			return -1;
		}
		*(float *)slot = (float)d;
	} else {
		*(double *)slot = d;
	}
	return 0;
}

static void enum_names(const ProtobufCEnumDescriptor *ed, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < ed->n_values && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ed->values[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int set_enum(struct conv *c, json_object *v, const ProtobufCEnumDescriptor *ed, void *slot)
{
	const ProtobufCEnumValue *ev;
	char names[512];

	switch (json_object_get_type(v)) {
	case json_type_string:
		ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_object_get_string(v));
		if (!ev) {
			enum_names(ed, names, sizeof(names));
			fail(c, "\"%.60s\" is not a value of %s (expected one of %s, or a number)",
			     json_object_get_string(v), ed->name, names);
			return -1;
		}
		*(int32_t *)slot = ev->value;
		return 0;
	case json_type_int:
	case json_type_double:
		/* Open enum: an undefined number is passed on as is (pmhcd degrades it). */
		return set_integer(c, v, PROTOBUF_C_TYPE_INT32, slot);
	default: {
		char want[600];

		enum_names(ed, names, sizeof(names));
		snprintf(want, sizeof(want), "a value name of %s (one of %s) or a number", ed->name, names);
		fail_type(c, v, want);
		return -1;
	}
	}
}

static int set_string(struct conv *c, json_object *v, void *slot)
{
	const char *s;
	char *copy;
	size_t len;

	if (!json_object_is_type(v, json_type_string)) {
		fail_type(c, v, "a string");
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len) {
		fail(c, "the string contains a NUL character (\\u0000), which protobuf strings "
			"cannot carry here");
		return -1;
	}
	copy = malloc(len + 1);
	if (!copy) {
		fail(c, "out of memory");
		return -1;
	}
	memcpy(copy, s, len + 1);
	*(char **)slot = copy;
	return 0;
}

static int set_bytes(struct conv *c, json_object *v, void *slot)
{
	ProtobufCBinaryData *bd = slot;
	uint8_t *data;
	size_t len;

	if (!json_object_is_type(v, json_type_string)) {
		fail_type(c, v, "a base64 string");
		return -1;
	}
	if (b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), &data, &len) < 0) {
		fail_type(c, v, "a base64 string");
		return -1;
	}
	if (len == 0) {
		free(data);
		return 0;
	}
	bd->data = data;
	bd->len = len;
	return 0;
}

static int fill_message(struct conv *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, json_object *o);

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);

	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

/*
 * Converts v into the value at slot (a field of a message, or an element of a repeated
 * field's array). A nested message is hung into the slot before it is filled, so a
 * failure part-way leaves nothing that free_unpacked would miss.
 */
static int set_value(struct conv *c, const ProtobufCFieldDescriptor *f, json_object *v, void *slot)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return set_integer(c, v, f->type, slot);
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: return set_floating(c, v, f->type, slot);
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(v, json_type_boolean)) {
			fail_type(c, v, "true or false");
			return -1;
		}
		*(protobuf_c_boolean *)slot = json_object_get_boolean(v) ? 1 : 0;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: return set_enum(c, v, f->descriptor, slot);
	case PROTOBUF_C_TYPE_STRING: return set_string(c, v, slot);
	case PROTOBUF_C_TYPE_BYTES: return set_bytes(c, v, slot);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		ProtobufCMessage *sub;

		if (!json_object_is_type(v, json_type_object)) {
			char want[160];

			snprintf(want, sizeof(want), "an object (%s)", sd->name);
			fail_type(c, v, want);
			return -1;
		}
		sub = new_message(sd);
		if (!sub) {
			fail(c, "out of memory");
			return -1;
		}
		*(ProtobufCMessage **)slot = sub;
		return fill_message(c, sd, sub, v);
	}
	}
	fail(c, "field type %d is not supported", (int)f->type);
	return -1;
}

static int set_repeated(struct conv *c, const ProtobufCFieldDescriptor *f, json_object *v, ProtobufCMessage *msg)
{
	size_t *count = (size_t *)((char *)msg + f->quantifier_offset);
	void **arrp = (void **)((char *)msg + f->offset);
	size_t size = element_size(f->type), n, i;
	char *arr;

	if (!json_object_is_type(v, json_type_array)) {
		fail_type(c, v, "an array");
		return -1;
	}
	n = json_object_array_length(v);
	if (n == 0)
		return 0;
	arr = calloc(n, size);
	if (!arr) {
		fail(c, "out of memory");
		return -1;
	}
	*arrp = arr;
	for (i = 0; i < n; i++) {
		size_t old = path_push_index(c, i);
		json_object *e = json_object_array_get_idx(v, i);

		/* Counted before it is set: a zeroed element is safe for free_unpacked. */
		*count = i + 1;
		if (!e) {
			fail(c, "null is not allowed in a repeated field");
			return -1;
		}
		if (set_value(c, f, e, arr + i * size) < 0)
			return -1;
		path_pop(c, old);
	}
	return 0;
}

static void field_names(const ProtobufCMessageDescriptor *d, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < d->n_fields && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", d->fields[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int set_field(struct conv *c, const ProtobufCFieldDescriptor *f, json_object *v, ProtobufCMessage *msg)
{
	void *slot = (char *)msg + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return set_repeated(c, f, v, msg);

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)((char *)msg + f->quantifier_offset);

		if (*which != 0 && *which != f->id) {
			fail(c, "another member of the same oneof is already set; give only one");
			return -1;
		}
		*which = f->id;
		/* The union may hold the default pointer of another member: start clean. */
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
			*(void **)slot = NULL;
	}
	if (set_value(c, f, v, slot) < 0)
		return -1;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
	return 0;
}

static int fill_message(struct conv *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
		size_t old = path_push_name(c, key);

		if (!f) {
			char names[512];

			field_names(d, names, sizeof(names));
			fail(c, "no such field in %s (its fields are: %s)", d->name, names);
			return -1;
		}
		/* null means "the proto3 default", as in the canonical proto3 JSON mapping. */
		if (val && set_field(c, f, val, msg) < 0)
			return -1;
		path_pop(c, old);
	}
	return 0;
}

ProtobufCMessage *pmhc_json_to_message(const ProtobufCMessageDescriptor *d, json_object *o, char *err, size_t errlen)
{
	struct conv c = { .err = err, .errlen = errlen };
	ProtobufCMessage *msg;

	if (errlen > 0)
		err[0] = '\0';
	if (!json_object_is_type(o, json_type_object)) {
		char want[160];

		snprintf(want, sizeof(want), "a JSON object (%s)", d->name);
		fail_type(&c, o, want);
		return NULL;
	}
	msg = new_message(d);
	if (!msg) {
		fail(&c, "out of memory");
		return NULL;
	}
	if (fill_message(&c, d, msg, o) < 0) {
		protobuf_c_message_free_unpacked(msg, NULL);
		return NULL;
	}
	if (!protobuf_c_message_check(msg)) {
		fail(&c, "a required field of %s is missing", d->name);
		protobuf_c_message_free_unpacked(msg, NULL);
		return NULL;
	}
	return msg;
}

/* ---- message -> JSON ---- */

/* Identity fields and revision are written even when empty or 0, so readers can rely on them. */
static int always_written(const char *name)
{
	static const char *const names[] = { "call_id", "psap_id", "unit_id", "revision" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

static int is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM: return *(const uint32_t *)slot == 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)slot == 0;
	case PROTOBUF_C_TYPE_FLOAT: return *(const float *)slot == 0 && !signbit(*(const float *)slot);
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)slot == 0 && !signbit(*(const double *)slot);
	case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)slot == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)slot;

		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)slot)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)slot == NULL;
	}
	return 1;
}

/* The shortest of %.{min..max}g that reads back to exactly d. */
static json_object *floating_to_json(double d, int is_float)
{
	char buf[40];
	int prec = is_float ? 6 : 15, max = is_float ? 9 : 17;

	if (isnan(d))
		return json_object_new_string("NaN");
	if (isinf(d))
		return json_object_new_string(d > 0 ? "Infinity" : "-Infinity");
	for (; prec <= max; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (is_float ? (float)strtod(buf, NULL) == (float)d : strtod(buf, NULL) == d)
			break;
	}
	return json_object_new_double_s(d, buf);
}

static json_object *value_to_json(const ProtobufCFieldDescriptor *f, const void *slot)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return json_object_new_int64(*(const int32_t *)slot);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return json_object_new_int64(*(const uint32_t *)slot);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: return json_object_new_int64(*(const int64_t *)slot);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return json_object_new_uint64(*(const uint64_t *)slot);
	case PROTOBUF_C_TYPE_FLOAT: return floating_to_json(*(const float *)slot, 1);
	case PROTOBUF_C_TYPE_DOUBLE: return floating_to_json(*(const double *)slot, 0);
	case PROTOBUF_C_TYPE_BOOL: return json_object_new_boolean(*(const protobuf_c_boolean *)slot ? 1 : 0);
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t v = *(const int32_t *)slot;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);

		return ev ? json_object_new_string(ev->name) : json_object_new_int64(v);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)slot;

		return json_object_new_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = slot;

		return b64_encode(bd->data, bd->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)slot;

		return sub ? pmhc_message_to_json(sub) : json_object_new_object();
	}
	}
	return NULL;
}

static json_object *repeated_to_json(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
	size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
	const char *arr = *(char *const *)((const char *)m + f->offset);
	size_t size = element_size(f->type), i;
	json_object *ja = json_object_new_array_ext((int)n);

	if (!ja)
		return NULL;
	for (i = 0; i < n; i++) {
		json_object *e = value_to_json(f, arr + i * size);

		if (!e || json_object_array_add(ja, e) < 0) {
			json_object_put(e);
			json_object_put(ja);
			return NULL;
		}
	}
	return ja;
}

json_object *pmhc_message_to_json(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_object *o = json_object_new_object();
	unsigned i;

	if (!o)
		return NULL;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *slot = (const char *)m + f->offset;
		json_object *v;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (*(const size_t *)((const char *)m + f->quantifier_offset) == 0)
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
			   f->type != PROTOBUF_C_TYPE_MESSAGE) {
			if (!*(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset))
				continue;
		} else if (f->label != PROTOBUF_C_LABEL_REQUIRED && is_default(f, slot) &&
			   !(always_written(f->name) && f->type != PROTOBUF_C_TYPE_MESSAGE)) {
			continue;
		}

		v = f->label == PROTOBUF_C_LABEL_REPEATED ? repeated_to_json(f, m) : value_to_json(f, slot);
		if (!v || json_object_object_add(o, f->name, v) < 0) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}
