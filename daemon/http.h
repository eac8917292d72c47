/*
 * /metrics, /healthz and /readyz on http.listen, served by libmicrohttpd in a
 * thread of its own. Thin on purpose: every answer comes from metrics.c.
 */
#ifndef PMHC_HTTP_H
#define PMHC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

struct pmhc_http;

/*
 * Whether listen is "HOST:PORT" or "[IPV6]:PORT" with a port of 1..65535; why
 * says what is wrong otherwise. For the configuration to refuse it early.
 */
bool pmhc_http_listen_valid(const char *listen, char *why, size_t len);

/* Listening on listen, answering from m (which must outlive it); NULL with err filled. */
struct pmhc_http *pmhc_http_start(const char *listen, struct pmhc_metrics *m, char *err, size_t errlen);

/* Stops the thread and closes the socket; NULL is fine. */
void pmhc_http_stop(struct pmhc_http *h);

#endif
