#include "log.h"

#include "utf8.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Set by the main thread on a reload, read by every thread that logs (writer, HTTP, librdkafka's). */
static atomic_int min_level = PMHC_LOG_INFO;

static const char *const level_names[] = {
	[PMHC_LOG_DEBUG] = "debug", [PMHC_LOG_INFO] = "info",   [PMHC_LOG_WARN] = "warn",
	[PMHC_LOG_ERROR] = "error", [PMHC_LOG_FATAL] = "fatal",
};

void pmhc_log_set_level(enum pmhc_log_level level)
{
	atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
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

char *pmhc_log_escape(char *dst, size_t len, const char *s)
{
	size_t o = 0;
	if (len == 0)
		return dst;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char esc[5];
		size_t n;
		if (*p == '"' || *p == '\\')
			n = (size_t)snprintf(esc, sizeof esc, "\\%c", *p);
		else if (*p == '\n')
			n = (size_t)snprintf(esc, sizeof esc, "\\n");
		else if (*p == '\r')
			n = (size_t)snprintf(esc, sizeof esc, "\\r");
		else if (*p == '\t')
			n = (size_t)snprintf(esc, sizeof esc, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
		else {
			esc[0] = (char)*p;
			n = 1;
		}
		if (o + n >= len) {
			dst[o] = '\0';
			pmhc_utf8_drop_cut(dst); /* nor in the middle of a character */
			return dst;
		}
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

const char *pmhc_q(const char *s)
{
	static _Thread_local char ring[PMHC_LOGQ_SLOTS][PMHC_LOGQ_LEN];
	static _Thread_local unsigned next;
	return pmhc_log_escape(ring[next++ % PMHC_LOGQ_SLOTS], PMHC_LOGQ_LEN, s);
}

/*
 * The last line of defence: a control character that reached the line unescaped
 * (a value someone forgot to pass through pmhc_q) must still not start a new one.
 */
static void no_control_chars(char *line)
{
	for (unsigned char *p = (unsigned char *)line; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

void pmhc_log_at(enum pmhc_log_level level, const char *file, int line, const char *fmt, ...)
{
	if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed))
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
	no_control_chars(body);
	fprintf(stderr, "%s.%03ldZ level=%s src=%s:%d %s\n", when, ts.tv_nsec / 1000000L, level_names[level], base,
		line, body);
}
