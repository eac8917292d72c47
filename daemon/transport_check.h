/*
 * Is pmhcd's traffic to Kafka and PostgreSQL verified TLS where it leaves the
 * machine? The decisions are pure (strings in, a verdict out) and unit-tested;
 * pmhc_transport_check() reads the config and logs one warning line per link
 * that is not, naming the setting to change.
 */
#ifndef PMHC_TRANSPORT_CHECK_H
#define PMHC_TRANSPORT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * Whether HOST is this machine: "localhost", a loopback address (127.0.0.0/8,
 * ::1, ::ffff:127.x.x.x), or a Unix socket directory (a path, or "@" for the
 * abstract namespace). A name that only resolves to loopback is not: no DNS here.
 */
bool pmhc_host_is_local(const char *host);

/*
 * The first broker of a bootstrap.servers list ("host:port,[v6]:port,
 * SSL://host:port") that is not on this machine, copied into buf; false when
 * all are local.
 */
bool pmhc_kafka_remote_broker(const char *brokers, char *buf, size_t len);

/*
 * Why the librdkafka properties ("name=value", later ones win, as librdkafka
 * applies them) leave a link unverified: the setting to change, as a sentence;
 * NULL when the link is verified TLS (security.protocol SSL or SASL_SSL, the
 * certificate checked and the broker's name matched against it).
 */
const char *pmhc_kafka_unverified(const char *const *props, size_t n);

/*
 * Whether SCRAM is asked for of a librdkafka (rd_kafka_version()) that sends a
 * proof Apache Kafka 4 refuses: before 2.6.1 it repeats the client nonce in the
 * final message, and Kafka 4 compares the nonce strictly (RFC 5802).
 */
bool pmhc_kafka_scram_refused(const char *const *props, size_t n, int rdkafka_version);

/*
 * PostgreSQL: the first host of a host/hostaddr list (either may be NULL or
 * empty: libpq's default, a Unix socket) that is not on this machine, into buf;
 * false when all are local.
 */
bool pmhc_pg_remote_host(const char *host, const char *hostaddr, char *buf, size_t len);

/* Whether sslmode (NULL: libpq's default, prefer) verifies the server: verify-full only. */
bool pmhc_pg_sslmode_verified(const char *sslmode);

/*
 * What to do about a connection error's text, when it is TLS's or a login's
 * fault (a certificate not trusted or not naming the host, a SASL login
 * refused); NULL for any other error.
 */
const char *pmhc_pg_error_hint(const char *error);
const char *pmhc_kafka_error_hint(const char *error);

/*
 * Logs a warning for each link of cfg to another machine that is not verified
 * TLS, and for SCRAM with a librdkafka that Kafka 4 refuses. Reads the PG*
 * environment variables libpq would use for what postgres.conninfo leaves out.
 * Returns the number of warnings.
 */
int pmhc_transport_check(const struct pmhc_config *cfg);

#endif
