#include "caps.h"

#include <stdio.h>
#include <string.h>

/* Counts one cut field, naming the first in why. */
static void note(unsigned *n, char *why, size_t len, const char *field, size_t was, size_t max)
{
	if ((*n)++ == 0 && len > 0)
		snprintf(why, len, "%s of %zu cut to %zu", field, was, max);
}

/* Shortens s to at most max bytes, never inside a UTF-8 character (wire.c made it UTF-8). */
static void cut_text(char *s, size_t max, unsigned *n, char *why, size_t len, const char *field)
{
	if (s == NULL)
		return;
	size_t was = strlen(s);
	if (was <= max)
		return;
	size_t at = max;
	while (at > 0 && ((unsigned char)s[at] & 0xC0) == 0x80) /* a continuation byte: back to the lead */
		at--;
	s[at] = '\0';
	note(n, why, len, field, was, max);
}

static void cut_list(size_t *count, size_t max, unsigned *n, char *why, size_t len, const char *field)
{
	if (*count <= max)
		return;
	note(n, why, len, field, *count, max);
	*count = max;
}

unsigned pmhc_caps_call(Pmhc__V1__CallEvent *c, char *why, size_t len)
{
	unsigned n = 0;
	cut_text(c->nature_text, PMHC_TEXT_MAX, &n, why, len, "nature_text bytes");
	cut_text(c->narrative, PMHC_TEXT_MAX, &n, why, len, "narrative bytes");
	if (c->location != NULL)
		cut_text(c->location->address, PMHC_TEXT_MAX, &n, why, len, "address bytes");
	cut_list(&c->n_premise_flags, PMHC_LIST_MAX, &n, why, len, "premise_flags");
	for (size_t i = 0; i < c->n_premise_flags; i++)
		cut_text(c->premise_flags[i], PMHC_FLAG_MAX, &n, why, len, "premise flag bytes");
	return n;
}

unsigned pmhc_caps_disposition(Pmhc__V1__Disposition *d, char *why, size_t len)
{
	unsigned n = 0;
	cut_text(d->service_name, PMHC_TEXT_MAX, &n, why, len, "service_name bytes");
	cut_list(&d->n_unit_ids, PMHC_LIST_MAX, &n, why, len, "unit_ids");
	return n;
}
