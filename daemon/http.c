#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include "log.h"

/* Room for a host name or address and for a port. */
#define HOST_LEN 256
#define PORT_LEN 8
#define MAX_PORT 65535

/* The exposition's content type, version 0.0.4 of the text format. */
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * A scraper and an operator's curl or two: a handful of connections at once is
 * plenty, and a slow client is dropped after 10 s so it cannot hold one.
 */
#define HTTP_CONNECTIONS 16
#define HTTP_TIMEOUT_S 10

struct pmhc_http {
	struct MHD_Daemon *d;
	struct pmhc_metrics *m;
};

/* "host:port" or "[v6]:port" into its parts; false when it is neither. */
static bool split(const char *listen, char *host, char *port, char *why, size_t len)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen, *h_end = colon;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (close == NULL || close[1] != ':') {
			snprintf(why, len, "'%s': an IPv6 address goes in brackets, then :PORT", listen);
			return false;
		}
		h = listen + 1;
		h_end = close;
		colon = close + 1;
	}
	if (colon == NULL || h_end == h || (size_t)(h_end - h) >= HOST_LEN) {
		snprintf(why, len, "'%s' must be HOST:PORT, such as 127.0.0.1:9464", listen);
		return false;
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > MAX_PORT) {
		snprintf(why, len, "'%s': the port must be a number from 1 to %d", listen, MAX_PORT);
		return false;
	}
	snprintf(host, HOST_LEN, "%.*s", (int)(h_end - h), h);
	snprintf(port, PORT_LEN, "%ld", p);
	return true;
}

bool pmhc_http_listen_valid(const char *listen, char *why, size_t len)
{
	char host[HOST_LEN], port[PORT_LEN];
	return split(listen, host, port, why, len);
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type, void *body, size_t n,
			      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* A one-line reason and a status: /healthz and /readyz. */
static enum MHD_Result probe(struct MHD_Connection *c, bool ok, const char *why)
{
	char line[PMHC_METRICS_REASON_LEN * 2 + 2];
	int n = snprintf(line, sizeof line, "%s\n", why);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	return answer(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", line, len,
		      MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	struct pmhc_http *h = cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (void *)"GET only\n", 9,
			      MHD_RESPMEM_PERSISTENT);
	char why[PMHC_METRICS_REASON_LEN * 2];
	if (strcmp(url, "/healthz") == 0)
		return probe(c, pmhc_metrics_healthy(h->m, why, sizeof why), why);
	if (strcmp(url, "/readyz") == 0)
		return probe(c, pmhc_metrics_ready(h->m, why, sizeof why), why);
	if (strcmp(url, "/metrics") != 0)
		return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", (void *)"/metrics, /healthz or /readyz\n", 30,
			      MHD_RESPMEM_PERSISTENT);
	struct pmhc_sbuf out = { 0 };
	if (!pmhc_metrics_render(h->m, &out)) {
		pmhc_sbuf_free(&out);
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", (void *)"out of memory\n", 14,
			      MHD_RESPMEM_PERSISTENT);
	}
	/* libmicrohttpd frees the text once sent. */
	return answer(c, MHD_HTTP_OK, METRICS_TYPE, out.p, out.len, MHD_RESPMEM_MUST_FREE);
}

/* The log line libmicrohttpd would print on stderr, in ours. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char text[PMHC_METRICS_REASON_LEN];
	vsnprintf(text, sizeof text, fmt, ap);
	pmhc_warn("msg=\"http: %s\"", pmhc_q(text));
}

struct pmhc_http *pmhc_http_start(const char *listen, struct pmhc_metrics *m, char *err, size_t errlen)
{
	char host[HOST_LEN], port[PORT_LEN];
	if (!split(listen, host, port, err, errlen))
		return NULL;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int e = getaddrinfo(host, port, &hints, &ai);
	if (e != 0) {
		snprintf(err, errlen, "http.listen '%s': %s", listen, gai_strerror(e));
		return NULL;
	}
	struct pmhc_http *h = calloc(1, sizeof *h);
	if (h != NULL) {
		h->m = m;
		unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
					MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	}
	freeaddrinfo(ai);
	if (h == NULL || h->d == NULL) {
		snprintf(err, errlen, "cannot listen on http.listen '%s' (in use, or not an address of this host?)",
			 listen);
		free(h);
		return NULL;
	}
	return h;
}

void pmhc_http_stop(struct pmhc_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
