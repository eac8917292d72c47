#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <librdkafka/rdkafka.h>

#include "http.h"
#include "kafka.h"
#include "log.h"
#include "rules_load.h"

enum key_type { KEY_STRING, KEY_INT, KEY_BOOL };

/*
 * Every scalar setting, as data: its name, type, default, bounds, where it goes
 * and whether a SIGHUP can change it. A setting not in this table (or one of
 * the structured groups below) is refused, so a typo cannot pass silently.
 */
static const struct key {
	const char *name;
	enum key_type type;
	const char *def_string;
	int def_int, min, max;
	size_t offset;
	bool reloadable;
	bool required;
} keys[] = {
#define S(n, d, f, rel)                                                                                                \
	{                                                                                                              \
		n, KEY_STRING, d, 0, 0, 0, offsetof(struct pmhc_config, f), rel, false                                 \
	}
#define R(n, f)                                                                                                        \
	{                                                                                                              \
		n, KEY_STRING, NULL, 0, 0, 0, offsetof(struct pmhc_config, f), false, true                             \
	}
#define I(n, d, lo, hi, f, rel)                                                                                        \
	{                                                                                                              \
		n, KEY_INT, NULL, d, lo, hi, offsetof(struct pmhc_config, f), rel, false                               \
	}
#define B(n, d, f, rel)                                                                                                \
	{                                                                                                              \
		n, KEY_BOOL, NULL, d, 0, 1, offsetof(struct pmhc_config, f), rel, false                                \
	}
	S("kafka.brokers", "localhost:9092", kafka_brokers, false),
	S("kafka.group_id", "pmhcd", kafka_group_id, false),
	B("kafka.share_holds", 1, share_holds, false),
	R("postgres.conninfo", pg_conninfo),
	I("postgres.start_timeout", 60, 0, 86400, pg_start_timeout_s, false),
	S("topics.calls", "cad.calls", topic_calls, false),
	S("topics.units", "cad.units", topic_units, false),
	S("topics.dispositions", "cad.dispositions", topic_dispositions, false),
	S("topics.recommendations", "pmhc.recommendations", topic_recommendations, false),
	S("topics.dlq", "pmhc.dlq", topic_dlq, false),
	S("topics.history", "cad.history", topic_history, false),
	R("privacy.subject_key_file", subject_key_file),
	B("privacy.store_narrative", 0, store_narrative, false),
	I("limits.batch_max_events", 2000, 1, 100000, batch_max_events, false),
	I("limits.batch_max_ms", 50, 1, 60000, batch_max_ms, false),
	I("limits.max_message_bytes", 262144, 1024, 16777216, max_message_bytes, false),
	I("limits.backlog_max_events", 100000, 1000, 10000000, backlog_max_events, false),
	I("limits.backlog_mb", 256, 16, 65536, backlog_mb, false),
	I("limits.shutdown_timeout", 10, 1, 3600, shutdown_timeout_s, false),
	I("limits.stall_exit", 600, 1, 86400, stall_exit_s, true),
	S("http.listen", NULL, http_listen, false),
	S("log.level", "info", log_level, true),
#undef S
#undef R
#undef I
#undef B
};

#define N_KEYS (sizeof keys / sizeof keys[0])

/* Settings that are not scalars in the table above but are known. */
static const char *const structured[] = {
	"kafka.properties",
};

static const char *const owned_properties[] = {
	"bootstrap.servers", "metadata.broker.list", "group.id",       "enable.auto.commit", "enable.auto.offset.store",
	"auto.offset.reset", "enable.partition.eof", "key.serializer", "value.serializer",
};

bool pmhc_config_kafka_property_owned(const char *name)
{
	for (size_t i = 0; i < sizeof owned_properties / sizeof owned_properties[0]; i++)
		if (strcmp(name, owned_properties[i]) == 0)
			return true;
	return false;
}

void pmhc_config_free(struct pmhc_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].type == KEY_STRING)
			free(*(char **)((char *)cfg + keys[i].offset));
	for (size_t i = 0; i < cfg->n_kafka_properties; i++)
		free(cfg->kafka_properties[i]);
	free(cfg->kafka_properties);
	if (cfg->subject_key != NULL) {
		/* The secret should not outlive its use in freed heap memory. */
		explicit_bzero(cfg->subject_key, cfg->subject_key_len);
		free(cfg->subject_key);
	}
	pmhc_rules_free(cfg->rules);
	free(cfg->path);
	free(cfg);
}

static bool key_known(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < sizeof structured / sizeof structured[0]; i++)
		if (strcmp(structured[i], name) == 0)
			return true;
	return false;
}

/* Refuses any setting the tables do not name, two levels deep (group.key). */
static void check_unknown(config_setting_t *root, const char *file, struct pmhc_errlist *errs)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
		const char *gname = config_setting_name(g);
		bool rules_section = false;
		for (const char *const *r = pmhc_rules_sections; *r && !rules_section; r++)
			rules_section = strcmp(gname, *r) == 0;
		if (rules_section)
			continue; /* rules_load.c checks these itself */
		if (!config_setting_is_group(g)) {
			pmhc_errlist_add(errs, file, config_setting_source_line(g),
					 "unknown setting '%s' (settings live in groups such as kafka { ... })", gname);
			continue;
		}
		for (int j = 0; j < config_setting_length(g); j++) {
			config_setting_t *s = config_setting_get_elem(g, (unsigned)j);
			char full[256];
			snprintf(full, sizeof full, "%s.%s", gname, config_setting_name(s));
			if (!key_known(full))
				pmhc_errlist_add(errs, file, config_setting_source_line(s), "unknown setting '%s'",
						 full);
		}
	}
}

static void load_key(const config_t *cf, const struct key *k, struct pmhc_config *cfg, const char *file,
		     struct pmhc_errlist *errs)
{
	config_setting_t *s = config_lookup(cf, k->name);
	void *slot = (char *)cfg + k->offset;
	int line = s ? config_setting_source_line(s) : 0;

	if (s == NULL) {
		if (k->required) {
			pmhc_errlist_add(errs, file, 0, "required setting '%s' is missing", k->name);
			return;
		}
		if (k->type == KEY_STRING)
			*(char **)slot = k->def_string ? strdup(k->def_string) : NULL; /* NULL: off */
		else if (k->type == KEY_INT)
			*(int *)slot = k->def_int;
		else
			*(bool *)slot = k->def_int != 0;
		return;
	}
	switch (k->type) {
	case KEY_STRING: {
		const char *v = config_setting_get_string(s);
		if (v == NULL)
			pmhc_errlist_add(errs, file, line, "'%s' must be a string in double quotes", k->name);
		else if (v[0] == '\0')
			pmhc_errlist_add(errs, file, line, "'%s' must not be empty", k->name);
		else
			*(char **)slot = strdup(v);
		break;
	}
	case KEY_INT: {
		int type = config_setting_type(s);
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			pmhc_errlist_add(errs, file, line, "'%s' must be a whole number", k->name);
			break;
		}
		long long v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			pmhc_errlist_add(errs, file, line, "'%s' is %lld, outside %d..%d", k->name, v, k->min, k->max);
		else
			*(int *)slot = (int)v;
		break;
	}
	case KEY_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			pmhc_errlist_add(errs, file, line, "'%s' must be true or false", k->name);
		else
			*(bool *)slot = config_setting_get_bool(s) != 0;
		break;
	}
}

static void load_kafka_properties(const config_t *cf, struct pmhc_config *cfg, const char *file,
				  struct pmhc_errlist *errs)
{
	config_setting_t *list = config_lookup(cf, "kafka.properties");
	if (list == NULL)
		return;
	int line = config_setting_source_line(list);
	if (!config_setting_is_aggregate(list) || config_setting_is_group(list)) {
		pmhc_errlist_add(errs, file, line, "'kafka.properties' must be a list of \"name=value\" strings");
		return;
	}
	int n = config_setting_length(list);
	cfg->kafka_properties = calloc((size_t)n + 1, sizeof *cfg->kafka_properties);
	if (cfg->kafka_properties == NULL)
		return;
	for (int i = 0; i < n; i++) {
		const char *p = config_setting_get_string_elem(list, i);
		const char *eq = p ? strchr(p, '=') : NULL;
		if (eq == NULL || eq == p) {
			pmhc_errlist_add(errs, file, line, "kafka.properties[%d] must be a \"name=value\" string", i);
			continue;
		}
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
		if (pmhc_config_kafka_property_owned(name)) {
			pmhc_errlist_add(errs, file, line,
					 "kafka.properties[%d]: '%s' is set by pmhcd itself and cannot be overridden%s",
					 i, name,
					 strcmp(name, "group.id") == 0                       ? " (use kafka.group_id)"
					 : strstr(name, "servers") || strstr(name, "broker") ? " (use kafka.brokers)"
											     : "");
			continue;
		}
		/* Refused here, --check-config finds it, and a start says it is the config's fault. */
		char why[256];
		rd_kafka_conf_t *probe = rd_kafka_conf_new();
		rd_kafka_conf_res_t res = rd_kafka_conf_set(probe, name, eq + 1, why, sizeof why);
		rd_kafka_conf_destroy(probe);
		if (res != RD_KAFKA_CONF_OK) {
			pmhc_kafka_mask(why, eq + 1);
			pmhc_errlist_add(errs, file, line,
					 "kafka.properties[%d]: '%s' refused (its value is not shown): %s", i, name,
					 why);
			continue;
		}
		cfg->kafka_properties[cfg->n_kafka_properties++] = strdup(p);
	}
}

/*
 * Whether the key file is one only its owner can change or anyone else can read: a
 * regular file (not a link, a device or a pipe), owned by root or by the user pmhcd
 * runs as, with no write bit for the group and no bit at all for others. Its
 * reason into why otherwise.
 */
static bool key_file_private(int fd, char *why, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		snprintf(why, len, "cannot be examined: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(why, len, "is not a regular file");
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		snprintf(why, len, "belongs to uid %ld, neither root nor the user pmhcd runs as (uid %ld)",
			 (long)st.st_uid, (long)geteuid());
	else if (st.st_mode & (S_IWGRP | S_IRWXO))
		snprintf(why, len, "has mode %04o: the group may write it or others may use it (chmod 600 FILE)",
			 (unsigned)(st.st_mode & 07777));
	else
		return true;
	return false;
}

/*
 * Where the key file is: a relative path names a credential of systemd's
 * LoadCredential= when $CREDENTIALS_DIRECTORY is set (the unit's copy, readable
 * by pmhcd alone, while the original stays root's), else the working directory's.
 */
static const char *key_file_path(const char *configured, char *buf, size_t len)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	if (configured[0] == '/' || creds == NULL || creds[0] != '/')
		return configured;
	snprintf(buf, len, "%s/%s", creds, configured);
	return buf;
}

/* The file's bytes, less one trailing newline: see SPEC section 5. */
static void load_subject_key(struct pmhc_config *cfg, const char *file, struct pmhc_errlist *errs)
{
	if (cfg->subject_key_file == NULL)
		return;
	char resolved[PATH_MAX];
	const char *path = key_file_path(cfg->subject_key_file, resolved, sizeof resolved);
	/* O_NOFOLLOW: a link planted where the key should be is refused, not followed. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		pmhc_errlist_add(errs, file, 0, "privacy.subject_key_file '%s' cannot be read: %s", path,
				 strerror(errno));
		return;
	}
	char why[160];
	if (!key_file_private(fd, why, sizeof why)) {
		close(fd);
		pmhc_errlist_add(errs, file, 0, "privacy.subject_key_file '%s' %s", path, why);
		return;
	}
	unsigned char buf[4096];
	size_t n = 0;
	bool failed = false;
	for (ssize_t r; n < sizeof buf; n += (size_t)r) {
		r = read(fd, buf + n, sizeof buf - n);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			failed = r < 0;
			break;
		}
	}
	unsigned char extra;
	bool too_long = n == sizeof buf && read(fd, &extra, 1) == 1;
	close(fd);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (failed)
		pmhc_errlist_add(errs, file, 0, "privacy.subject_key_file '%s': read error", path);
	else if (too_long)
		pmhc_errlist_add(errs, file, 0, "privacy.subject_key_file '%s' is over 4 KiB; a key is 32 to 64 bytes",
				 path);
	else if (n < 16)
		pmhc_errlist_add(errs, file, 0,
				 "privacy.subject_key_file '%s' holds %zu bytes; use at least 16 random bytes "
				 "(e.g. head -c 32 /dev/urandom > FILE)",
				 path, n);
	else if ((cfg->subject_key = malloc(n)) != NULL) {
		memcpy(cfg->subject_key, buf, n);
		cfg->subject_key_len = n;
	}
	explicit_bzero(buf, sizeof buf);
}

int pmhc_config_read_file(config_t *cf, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (dir != NULL)
		config_set_include_dir(cf, dir);
	free(dir);
	return config_read_file(cf, path);
}

struct pmhc_config *pmhc_config_load(const char *path, unsigned flags, struct pmhc_errlist *errs)
{
	config_t cf;
	config_init(&cf);
	struct pmhc_config *cfg = calloc(1, sizeof *cfg);
	size_t errs_before = pmhc_errlist_count(errs);

	if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
		pmhc_errlist_add(errs, path, 0, "out of memory");
		goto out;
	}
	if (!pmhc_config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			pmhc_errlist_add(errs, path, 0, "cannot read the file: %s", strerror(errno));
		else if (strstr(config_error_text(&cf), "include") != NULL)
			/* libconfig does not say which file or where it looked. */
			pmhc_errlist_add(errs, config_error_file(&cf) ? config_error_file(&cf) : path,
					 config_error_line(&cf),
					 "%s (an @include path is read from the directory of %s; "
					 "copy the file there)",
					 config_error_text(&cf), path);
		else
			pmhc_errlist_add(errs, config_error_file(&cf) ? config_error_file(&cf) : path,
					 config_error_line(&cf), "%s", config_error_text(&cf));
		goto out;
	}
	check_unknown(config_root_setting(&cf), path, errs);
	for (size_t i = 0; i < N_KEYS; i++)
		load_key(&cf, &keys[i], cfg, path, errs);
	load_kafka_properties(&cf, cfg, path, errs);
	if (!(flags & PMHC_CONFIG_NO_SECRETS))
		load_subject_key(cfg, path, errs);

	enum pmhc_log_level lvl;
	if (cfg->log_level && pmhc_log_level_parse(cfg->log_level, &lvl) != 0)
		pmhc_errlist_add(errs, path, 0, "log.level '%s' must be one of debug, info, warn, error",
				 cfg->log_level);

	char why[256];
	if (cfg->http_listen && !pmhc_http_listen_valid(cfg->http_listen, why, sizeof why))
		pmhc_errlist_add(errs, path, 0, "http.listen %s", why);

	cfg->rules = pmhc_rules_load(&cf, path, errs);
out:
	config_destroy(&cf);
	if (pmhc_errlist_count(errs) != errs_before) {
		pmhc_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Two settings' strings alike, either unset (NULL) too. */
static bool str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

size_t pmhc_config_restart_needed(const struct pmhc_config *a, const struct pmhc_config *b, char *buf, size_t len)
{
	size_t used = 0, count = 0;
	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		if (k->reloadable)
			continue;
		const void *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
		bool differs;
		if (k->type == KEY_STRING)
			differs = !str_same(*(char *const *)pa, *(char *const *)pb);
		else if (k->type == KEY_INT)
			differs = *(const int *)pa != *(const int *)pb;
		else
			differs = *(const bool *)pa != *(const bool *)pb;
		if (!differs)
			continue;
		int n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "%s%s", count ? "," : "",
				 k->name);
		if (n > 0)
			used += (size_t)n;
		count++;
	}
	bool props_differ = a->n_kafka_properties != b->n_kafka_properties;
	for (size_t i = 0; !props_differ && i < a->n_kafka_properties; i++)
		props_differ = strcmp(a->kafka_properties[i], b->kafka_properties[i]) != 0;
	bool key_differs = a->subject_key_len != b->subject_key_len ||
			   memcmp(a->subject_key, b->subject_key, a->subject_key_len) != 0;
	if (props_differ) {
		snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "%skafka.properties",
			 count ? "," : "");
		count++;
	}
	if (key_differs) {
		snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "%sprivacy.subject_key",
			 count ? "," : "");
		count++;
	}
	return count;
}
