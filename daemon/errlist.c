#include "errlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void pmhc_errlist_add(struct pmhc_errlist *errs, const char *file, int line, const char *fmt, ...)
{
	char msg[512], *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int n = line > 0 ? asprintf(&text, "%s:%d: %s", file, line, msg) : asprintf(&text, "%s: %s", file, msg);
	if (n < 0)
		text = NULL;
	char **grown = text ? realloc(errs->lines, (errs->n + 1) * sizeof *grown) : NULL;
	if (grown == NULL) {
		free(text);
		errs->lost++;
		return;
	}
	errs->lines = grown;
	errs->lines[errs->n++] = text;
}

size_t pmhc_errlist_count(const struct pmhc_errlist *errs)
{
	return errs->n + errs->lost;
}

void pmhc_errlist_clear(struct pmhc_errlist *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	*errs = (struct pmhc_errlist){ 0 };
}
