#include "consume_redact.h"

#include <stdlib.h>
#include <string.h>

/* The members that identify a person or a place (proto/pmhc/v1/pmhc.proto). */
static const char *const hidden[] = {
	"subject_key", "call_taker_id", "narrative", "nature_text", "address", "premise_id", "lat", "lon",
};

/* A recommendation quotes the narrative as one of its reasons when sharing.narrative is on. */
#define NARRATIVE_REASON "narrative: "

static int is_hidden(const char *name)
{
	for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
		if (strcmp(name, hidden[i]) == 0)
			return 1;
	return 0;
}

static void remember(struct pmhc_redacted *seen, const char *value)
{
	/* Shorter ones would blank out unrelated words of a header. */
	if (seen == NULL || value == NULL || strlen(value) < 3)
		return;
	if (seen->n == seen->cap) {
		size_t cap = seen->cap ? seen->cap * 2 : 8;
		char **v = realloc(seen->values, cap * sizeof *v);
		if (v == NULL)
			return;
		seen->values = v;
		seen->cap = cap;
	}
	char *copy = strdup(value);
	if (copy != NULL)
		seen->values[seen->n++] = copy;
}

static void redact_reasons(json_object *reasons, struct pmhc_redacted *seen)
{
	size_t n = json_object_array_length(reasons);
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(reasons, i);
		const char *s = json_object_is_type(r, json_type_string) ? json_object_get_string(r) : NULL;
		if (s == NULL || strncmp(s, NARRATIVE_REASON, strlen(NARRATIVE_REASON)) != 0)
			continue;
		remember(seen, s + strlen(NARRATIVE_REASON));
		json_object_array_put_idx(reasons, i, json_object_new_string(NARRATIVE_REASON PMHC_REDACTED));
	}
}

void pmhc_redact_json(json_object *o, struct pmhc_redacted *seen)
{
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			pmhc_redact_json(json_object_array_get_idx(o, i), seen);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, name, value)
	{
		if (is_hidden(name)) {
			if (json_object_is_type(value, json_type_string))
				remember(seen, json_object_get_string(value));
			/* Replacing a member's value keeps the iteration valid (json-c replaces in place). */
			json_object_object_add(o, name, json_object_new_string(PMHC_REDACTED));
		} else if (strcmp(name, "reasons") == 0 && json_object_is_type(value, json_type_array)) {
			redact_reasons(value, seen);
		} else {
			pmhc_redact_json(value, seen);
		}
	}
}

char *pmhc_redact_text(const char *text, size_t len, const struct pmhc_redacted *seen)
{
	char *out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, text, len);
	out[len] = '\0';
	for (size_t i = 0; seen != NULL && i < seen->n; i++) {
		const char *v = seen->values[i];
		size_t vn = strlen(v);
		for (char *at = strstr(out, v); at != NULL; at = strstr(at, v)) {
			size_t head = (size_t)(at - out), tail = strlen(at + vn), rn = strlen(PMHC_REDACTED);
			char *next = malloc(head + rn + tail + 1);
			if (next == NULL) {
				free(out);
				return NULL;
			}
			memcpy(next, out, head);
			memcpy(next + head, PMHC_REDACTED, rn);
			memcpy(next + head + rn, at + vn, tail + 1);
			free(out);
			out = next;
			at = out + head + rn;
		}
	}
	return out;
}

void pmhc_redacted_clear(struct pmhc_redacted *seen)
{
	for (size_t i = 0; i < seen->n; i++)
		free(seen->values[i]);
	free(seen->values);
	*seen = (struct pmhc_redacted){ 0 };
}
