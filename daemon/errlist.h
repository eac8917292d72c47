/*
 * Every problem found in a configuration, each one line "FILE:LINE: what is wrong".
 * config and rules_load both report into one list, so that an operator sees all
 * of them at once instead of one per try.
 */
#ifndef PMHC_ERRLIST_H
#define PMHC_ERRLIST_H

#include <stddef.h>

struct pmhc_errlist {
	char **lines;
	size_t n;
	/* Problems found but not kept for want of memory: still problems. */
	size_t lost;
};

/* Adds one problem, as "FILE:LINE: message" (or "FILE: message" when line is 0). */
void pmhc_errlist_add(struct pmhc_errlist *errs, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* How many problems were found, kept or not: the test of whether anything is wrong. */
size_t pmhc_errlist_count(const struct pmhc_errlist *errs);

/* Frees the lines; the list is empty and reusable afterwards. */
void pmhc_errlist_clear(struct pmhc_errlist *errs);

#endif
