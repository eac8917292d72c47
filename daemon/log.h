/*
 * One line per event worth logging, on stderr, as
 *   2026-11-23T03:35:00.123Z level=error src=store.c:88 msg="..." key=value ...
 * so that journald, grep and a person at 3 a.m. can all read it.
 */
#ifndef PMHC_LOG_H
#define PMHC_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum pmhc_log_level {
	PMHC_LOG_DEBUG,
	PMHC_LOG_INFO,
	PMHC_LOG_WARN,
	PMHC_LOG_ERROR,
	PMHC_LOG_FATAL, /* pmhcd cannot go on as it is: an operator must act (it may still run a while) */
};

/* Messages below this level are dropped (default INFO). */
void pmhc_log_set_level(enum pmhc_log_level level);
int pmhc_log_level_parse(const char *name, enum pmhc_log_level *out);

/*
 * fmt is the whole line after the fixed prefix: write it as
 * msg="what happened" key=value ...; values with spaces go in double quotes.
 */
void pmhc_log_at(enum pmhc_log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * s made safe for a double-quoted log field: a quote or backslash is escaped
 * with a backslash, a control character written as \n, \r, \t or \xHH, so a
 * value from outside (a call_id, a Kafka key, a server's message) can neither
 * end its field early nor start a line. Always quote the field: "%s".
 * Returns dst; cuts at len - 1 bytes, never in the middle of an escape.
 */
char *pmhc_log_escape(char *dst, size_t len, const char *s);

/*
 * pmhc_log_escape into one of PMHC_LOGQ_SLOTS buffers of this thread, used in
 * turn: for the arguments of one log call, at most PMHC_LOGQ_SLOTS of them.
 */
#define PMHC_LOGQ_SLOTS 8
#define PMHC_LOGQ_LEN 768
const char *pmhc_q(const char *s);

#define pmhc_debug(...) pmhc_log_at(PMHC_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define pmhc_info(...) pmhc_log_at(PMHC_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define pmhc_warn(...) pmhc_log_at(PMHC_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define pmhc_error(...) pmhc_log_at(PMHC_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define pmhc_fatal(...) pmhc_log_at(PMHC_LOG_FATAL, __FILE__, __LINE__, __VA_ARGS__)

#endif
