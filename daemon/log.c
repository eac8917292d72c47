#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum pmhc_log_level min_level = PMHC_LOG_INFO;

static const char *const level_names[] = {
	[PMHC_LOG_DEBUG] = "debug", [PMHC_LOG_INFO] = "info",   [PMHC_LOG_WARN] = "warn",
	[PMHC_LOG_ERROR] = "error", [PMHC_LOG_FATAL] = "fatal",
};

void pmhc_log_set_level(enum pmhc_log_level level)
{
	min_level = level;
}

int pmhc_log_level_parse(const char *name, enum pmhc_log_level *out)
{
	/* fatal is pmhcd's own to use, never a level to configure: it would hide every error. */
	for (size_t i = 0; i <= PMHC_LOG_ERROR; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum pmhc_log_level)i;
			return 0;
		}
	}
	return -1;
}

void pmhc_log_at(enum pmhc_log_level level, const char *file, int line, const char *fmt, ...)
{
	if (level < min_level)
		return;

	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;

	/* One fprintf per line: lines from two threads must not interleave. */
	char body[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ level=%s src=%s:%d %s\n", when, ts.tv_nsec / 1000000L, level_names[level], base,
		line, body);
}
