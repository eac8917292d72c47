#include "holds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "kafka.h"
#include "log.h"

/*
 * The reader re-reads every recommendation; fetched one by one, that took the
 * broker 2-3 s of CPU and pmhcd 1.4 s in 40 s at 1,000 calls/s, and pmhcd's
 * p99 rose by about 1.3 ms (median of three runs each, bench/live.sh). Gathered
 * for up to 10 ms, it costs what no holds reader costs, and a hold reaches the
 * other instances at most 10 ms later.
 */
#define HOLDS_GATHER_MS 10

struct pmhc_holds {
	rd_kafka_t *reader;
	char instance[PMHC_INSTANCE_LEN];
	size_t instance_len;
	int64_t hold_ms;
	unsigned long learned, read, undecodable;
	char acl[PMHC_KAFKA_GROUP_LEN + 64]; /* what its group needs, for a refusal's hint */
	struct pmhc_kafka_refusals refused;
};

void pmhc_holds_instance_name(char id[PMHC_INSTANCE_LEN])
{
	char host[64] = "?";
	if (gethostname(host, sizeof host - 1) != 0)
		strcpy(host, "?");
	host[sizeof host - 1] = '\0';
	snprintf(id, PMHC_INSTANCE_LEN, "%s/%ld/%lld", host, (long)getpid(), (long long)pmhc_wall_ms());
}

struct pmhc_holds *pmhc_holds_open(const struct pmhc_config *cfg, const char *instance, int timeout_ms, char *err,
				   size_t errlen)
{
	struct pmhc_holds *h = calloc(1, sizeof *h);
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(h->instance, sizeof h->instance, "%s", instance);
	h->instance_len = strlen(h->instance);
	h->hold_ms = cfg->rules->units.hold_ms;
	pmhc_kafka_reader_acl(cfg, h->acl, sizeof h->acl);
	h->reader = pmhc_kafka_reader_new(cfg, cfg->topic_recommendations, pmhc_wall_ms() - h->hold_ms, HOLDS_GATHER_MS,
					  timeout_ms, err, errlen);
	if (h->reader == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

/* Whether m was published by this very process. */
static bool own(const struct pmhc_holds *h, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	const void *val = NULL;
	size_t len = 0;
	return rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	       rd_kafka_header_get_last(hdrs, PMHC_INSTANCE_HEADER, &val, &len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	       len == h->instance_len && memcmp(val, h->instance, len) == 0;
}

static void learn(struct pmhc_holds *h, struct pmhc_roster *roster, const rd_kafka_message_t *m)
{
	h->read++;
	if (own(h, m))
		return;
	Pmhc__V1__Recommendation *rec = pmhc__v1__recommendation__unpack(NULL, m->len, m->payload);
	if (rec == NULL) {
		/* pmhcd wrote it, so this is another program's mistake: say so once in a while. */
		if (h->undecodable++ % 1000 == 0)
			pmhc_warn("msg=\"undecodable message on the recommendations topic; no hold learned\" "
				  "partition=%d offset=%lld count=%lu",
				  (int)m->partition, (long long)m->offset, h->undecodable);
		return;
	}
	h->learned += pmhc_roster_learn_hold(roster, rec->psap_id, rec->call_id, rec->unit_ids, rec->n_unit_ids,
					     rec->decided_at_ms, h->hold_ms);
	pmhc__v1__recommendation__free_unpacked(rec, NULL);
}

size_t pmhc_holds_apply(struct pmhc_holds *h, struct pmhc_roster *roster, int max)
{
	size_t n = 0;
	rd_kafka_message_t *m;
	while ((int)n < max && (m = rd_kafka_consumer_poll(h->reader, 0)) != NULL) {
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			learn(h, roster, m);
		else if (!pmhc_kafka_refused(h->reader, m, "recommendations reader", h->acl, false, &h->refused))
			pmhc_warn("msg=\"recommendations reader error\" error=\"%s\"",
				  pmhc_q(rd_kafka_message_errstr(m)));
		rd_kafka_message_destroy(m);
		n++;
	}
	return n;
}

void pmhc_holds_counts(const struct pmhc_holds *h, unsigned long *learned, unsigned long *read)
{
	*learned = h ? h->learned : 0;
	*read = h ? h->read : 0;
}

void pmhc_holds_close(struct pmhc_holds *h)
{
	if (h == NULL)
		return;
	rd_kafka_consumer_close(h->reader);
	rd_kafka_destroy(h->reader);
	free(h);
}
