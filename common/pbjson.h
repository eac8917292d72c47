/*
 * pbjson — convert between json-c objects and protobuf-c messages, for any message type,
 * driven only by the protobuf-c descriptors (no per-message code).
 *
 * JSON member names are the .proto field names (call_id, premise_flags, ...).
 *
 * JSON -> message accepts, per field type:
 *   string            a JSON string (no NUL byte)
 *   (u)int32/(u)int64 a JSON integer, or a string of decimal digits ("1700000000000"),
 *                     range-checked for the field's type
 *   double/float      a JSON number, or "NaN" / "Infinity" / "-Infinity"
 *   bool              true / false
 *   enum              the value's name ("ANSWER_YES") or a number; a number the enum does
 *                     not define is kept as is (proto3 enums are open, and pmhcd must
 *                     cope with such values: SPEC section 8)
 *   message           a JSON object, converted recursively
 *   bytes             a base64 string (RFC 4648, padding optional)
 *   repeated X        a JSON array of X
 *   any field         null, which leaves the proto3 default
 * Anything else is an error naming the field (with its path, e.g.
 * "screening.weapon_involved" or "premise_flags[2]") and what was expected.
 *
 * message -> JSON writes enums by name (a number the enum does not define as a JSON
 * integer), 64-bit integers as JSON integers, bytes as base64, doubles in the shortest
 * form that reads back to the same value, and omits fields holding their proto3 default
 * (empty string, 0, false, enum value 0, empty repeated, absent message), except the
 * identity fields call_id, psap_id, unit_id and revision, which are always written.
 */
#ifndef PMHC_PBJSON_H
#define PMHC_PBJSON_H

#include <stddef.h>

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

/*
 * Builds a message of type d from the JSON object o (o is not modified and stays owned
 * by the caller). Returns a message the caller frees with
 * protobuf_c_message_free_unpacked(msg, NULL): everything in it is malloc'd.
 * On error returns NULL and writes one line (no newline) saying which field is wrong
 * and what was expected into err (errlen bytes, always NUL-terminated when errlen > 0).
 */
ProtobufCMessage *pmhc_json_to_message(const ProtobufCMessageDescriptor *d, json_object *o, char *err, size_t errlen);

/*
 * Returns a new JSON object (reference count 1, release with json_object_put) for the
 * message m, or NULL when memory runs out.
 */
json_object *pmhc_message_to_json(const ProtobufCMessage *m);

#endif
