#include "transport_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>

#include "log.h"

/* librdkafka 2.6.1 (0xMMmmrrxx): the first whose SCRAM proof Kafka 4 accepts. */
#define RDKAFKA_SCRAM_FIXED 0x020601ff

#define HOST_LEN 256

bool pmhc_host_is_local(const char *host)
{
	if (host == NULL || host[0] == '\0' || host[0] == '/' || host[0] == '@')
		return true;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	unsigned char a[16];
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) != 1)
		return false;
	static const unsigned char loop6[16] = { [15] = 1 };
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(a, loop6, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

/* The host of one bootstrap entry ("PROTO://host:port", "[v6]:port", "host"), into buf. */
static void broker_host(const char *entry, size_t n, char *buf, size_t len)
{
	const char *scheme = NULL;
	for (size_t i = 0; i + 2 < n; i++)
		if (entry[i] == ':' && entry[i + 1] == '/' && entry[i + 2] == '/')
			scheme = entry + i + 3;
	if (scheme != NULL) {
		n -= (size_t)(scheme - entry);
		entry = scheme;
	}
	size_t colons = 0, last = n;
	for (size_t i = 0; i < n; i++)
		if (entry[i] == ':') {
			colons++;
			last = i;
		}
	if (n > 0 && entry[0] == '[') {
		const char *close = memchr(entry, ']', n);
		size_t end = close ? (size_t)(close - entry) : n;
		snprintf(buf, len, "%.*s", (int)(end - 1), entry + 1);
	} else if (colons == 1) {
		snprintf(buf, len, "%.*s", (int)last, entry);
	} else {
		snprintf(buf, len, "%.*s", (int)n, entry); /* no port, or a bare IPv6 address */
	}
}

/* Calls each entry of a comma-separated list, spaces trimmed, until one returns true. */
static bool any_entry(const char *list, bool (*remote)(const char *, size_t, void *), void *arg)
{
	for (const char *p = list ? list : ""; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0 && remote(s, n, arg))
			return true;
		p = end ? end + 1 : p + strlen(p);
	}
	return false;
}

struct found {
	char *buf;
	size_t len;
};

static bool broker_remote(const char *entry, size_t n, void *arg)
{
	struct found *f = arg;
	char host[HOST_LEN];
	broker_host(entry, n, host, sizeof host);
	if (pmhc_host_is_local(host))
		return false;
	snprintf(f->buf, f->len, "%.*s", (int)n, entry);
	return true;
}

bool pmhc_kafka_remote_broker(const char *brokers, char *buf, size_t len)
{
	struct found f = { buf, len };
	return any_entry(brokers, broker_remote, &f);
}

/* The value of the last "name=value" in props, or NULL. */
static const char *prop(const char *const *props, size_t n, const char *name)
{
	const char *v = NULL;
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strncmp(props[i], name, len) == 0 && props[i][len] == '=')
			v = props[i] + len + 1;
	return v;
}

const char *pmhc_kafka_unverified(const char *const *props, size_t n)
{
	const char *proto = prop(props, n, "security.protocol");
	if (proto == NULL || (strcasecmp(proto, "ssl") != 0 && strcasecmp(proto, "sasl_ssl") != 0))
		return "kafka.properties has no security.protocol=SSL or SASL_SSL: the traffic is not encrypted";
	const char *verify = prop(props, n, "enable.ssl.certificate.verification");
	if (verify != NULL && (strcasecmp(verify, "false") == 0 || strcmp(verify, "0") == 0))
		return "kafka.properties sets enable.ssl.certificate.verification=false: any certificate is accepted";
	const char *ident = prop(props, n, "ssl.endpoint.identification.algorithm");
	if (ident != NULL && strcasecmp(ident, "https") != 0)
		return "kafka.properties sets ssl.endpoint.identification.algorithm other than https: "
		       "the broker's name is not checked against its certificate";
	return NULL;
}

bool pmhc_kafka_scram_refused(const char *const *props, size_t n, int rdkafka_version)
{
	/* librdkafka takes sasl.mechanism as another name of sasl.mechanisms: the last of either counts. */
	const char *mech = NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(props[i], "sasl.mechanisms=", 16) == 0)
			mech = props[i] + 16;
		else if (strncmp(props[i], "sasl.mechanism=", 15) == 0)
			mech = props[i] + 15;
	return mech != NULL && strncasecmp(mech, "SCRAM-", 6) == 0 && (unsigned)rdkafka_version < RDKAFKA_SCRAM_FIXED;
}

static bool pg_host_remote(const char *entry, size_t n, void *arg)
{
	struct found *f = arg;
	char host[HOST_LEN];
	snprintf(host, sizeof host, "%.*s", (int)n, entry);
	if (pmhc_host_is_local(host))
		return false;
	snprintf(f->buf, f->len, "%s", host);
	return true;
}

bool pmhc_pg_remote_host(const char *host, const char *hostaddr, char *buf, size_t len)
{
	struct found f = { buf, len };
	/* hostaddr, where given, is where libpq connects; host then only names the certificate. */
	if (hostaddr != NULL && hostaddr[0] != '\0')
		return any_entry(hostaddr, pg_host_remote, &f);
	return any_entry(host, pg_host_remote, &f);
}

bool pmhc_pg_sslmode_verified(const char *sslmode)
{
	return sslmode != NULL && strcmp(sslmode, "verify-full") == 0;
}

const char *pmhc_pg_error_hint(const char *error)
{
	if (error == NULL)
		return NULL;
	if (strstr(error, "certificate verify failed") != NULL)
		return "the server's certificate is not signed by a CA in sslrootcert: set postgres.conninfo's "
		       "sslrootcert to the CA file that signed it";
	if (strstr(error, "does not match host name") != NULL || strstr(error, "server certificate for") != NULL)
		return "the server's certificate does not name the host connected to: use the name it carries in "
		       "postgres.conninfo's host";
	if (strstr(error, "SSL") != NULL || strstr(error, "certificate") != NULL)
		return "the TLS connection failed: check sslmode, sslrootcert and the server's ssl settings";
	return NULL;
}

const char *pmhc_kafka_error_hint(const char *error)
{
	if (error == NULL)
		return NULL;
	if (strstr(error, "certificate verify failed") != NULL)
		return "the broker's certificate is not trusted or does not name the host: set kafka.properties "
		       "ssl.ca.location to the CA file that signed it, and use the name it carries in kafka.brokers";
	if (strstr(error, "SSL") != NULL)
		return "the TLS handshake failed: check security.protocol and the ssl.* settings in kafka.properties";
	if (strstr(error, "SCRAM") != NULL)
		return "the broker refused the SCRAM login: check sasl.username and sasl.password; librdkafka before "
		       "2.6.1 cannot log in to Apache Kafka 4 with SCRAM at all (use sasl.mechanisms=PLAIN over "
		       "SASL_SSL)";
	if (strstr(error, "SASL") != NULL || strstr(error, "uthentication") != NULL)
		return "the broker refused the login: check sasl.mechanisms, sasl.username and sasl.password";
	return NULL;
}

static int check_kafka(const struct pmhc_config *cfg)
{
	const char *const *props = (const char *const *)cfg->kafka_properties;
	size_t n = cfg->n_kafka_properties;
	int warned = 0;
	char broker[HOST_LEN];
	const char *why = pmhc_kafka_unverified(props, n);
	if (why != NULL && pmhc_kafka_remote_broker(cfg->kafka_brokers, broker, sizeof broker)) {
		pmhc_warn("msg=\"Kafka traffic leaves this machine without verified TLS\" broker=\"%s\" why=\"%s\" "
			  "hint=\"set kafka.properties security.protocol=SSL (or SASL_SSL) with ssl.ca.location, and "
			  "leave ssl.endpoint.identification.algorithm at https\"",
			  pmhc_q(broker), why);
		warned++;
	}
	if (pmhc_kafka_scram_refused(props, n, rd_kafka_version())) {
		pmhc_warn("msg=\"SCRAM login with this librdkafka is refused by Apache Kafka 4 and later "
			  "(Kafka 3.x accepts it)\" librdkafka=%s hint=\"against Kafka 4 set kafka.properties "
			  "sasl.mechanisms=PLAIN (over SASL_SSL only), or use client certificates, or link librdkafka "
			  "2.6.1 or later\"",
			  rd_kafka_version_str());
		warned++;
	}
	return warned;
}

/* What libpq would use: the conninfo's value, else its environment variable. */
static const char *pg_value(const PQconninfoOption *opts, const char *key, const char *env)
{
	for (const PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL && o->val[0] != '\0')
			return o->val;
	return getenv(env);
}

static int check_pg(const struct pmhc_config *cfg)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(cfg->pg_conninfo, &err);
	PQfreemem(err); /* a bad conninfo is the connect's to report, with libpq's words */
	if (opts == NULL)
		return 0;
	char host[HOST_LEN];
	const char *sslmode = pg_value(opts, "sslmode", "PGSSLMODE");
	int warned = 0;
	if (!pmhc_pg_sslmode_verified(sslmode) &&
	    pmhc_pg_remote_host(pg_value(opts, "host", "PGHOST"), pg_value(opts, "hostaddr", "PGHOSTADDR"), host,
				sizeof host)) {
		char mode[32];
		snprintf(mode, sizeof mode, "%s", sslmode ? sslmode : "prefer (libpq's default)");
		pmhc_warn("msg=\"PostgreSQL traffic leaves this machine without verified TLS\" host=\"%s\" "
			  "sslmode=\"%s\" hint=\"set sslmode=verify-full and sslrootcert=CA-FILE in "
			  "postgres.conninfo\"",
			  pmhc_q(host), pmhc_q(mode));
		warned++;
	}
	PQconninfoFree(opts);
	return warned;
}

int pmhc_transport_check(const struct pmhc_config *cfg)
{
	return check_kafka(cfg) + check_pg(cfg);
}
