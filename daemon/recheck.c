#include "recheck.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "holds.h"
#include "kafka.h"
#include "log.h"

/*
 * Reading starts at the first message stamped this long before the one looked
 * for: on a topic stamped with the brokers' append time, the broker's clock may
 * be behind ours. A minute of one partition is a few thousand messages.
 */
#define RECHECK_LOOKBACK_MS 60000

/* The longest a blocking lookup may hold the thread, so a stop is not kept waiting. */
#define RECHECK_LOOKUP_MS 2000
/* How often the loop looks up from reading: for a stop, and for jobs asked meanwhile. */
#define RECHECK_POLL_MS 200
/* The partition's end is asked of its leader this often: settling takes minutes, not this. */
#define RECHECK_HIGH_EVERY_MS 1000
/* A lookup that failed, or memory that ran out, is tried again after this long. */
#define RECHECK_RETRY_MS 1000
/* Room for librdkafka's reason the reader could not be made. */
#define RECHECK_ERR_LEN 512
/* A lookup that keeps failing is said once in this many tries (one a second). */
#define RECHECK_LOG_EVERY 30

struct pmhc_recheck_job {
	struct pmhc_recheck_job *next;
	struct pmhc_landed_want w;
	enum pmhc_recheck_answer answer; /* under the lock */
	/*
	 * The thread's own while unanswered, kept from one round to the next; the
	 * main loop reads only the answer, and frees the job once there is one.
	 */
	bool watched;
	struct pmhc_landed_watch watch;
};

/* The thread's view of a job in its round: once answered, only this is read. */
struct look {
	struct pmhc_recheck_job *job;
	bool decided;
	int64_t asked; /* the partition's end as asked in this pass of settle(); -1 when not answered */
};

/* A round: the unanswered jobs, read together. */
struct round {
	const char *topic; /* the recheck's own */
	struct look *looks;
	size_t n;
	unsigned long asked_at_start; /* r->asked when taken: another ask ends the round early */
};

struct pmhc_recheck {
	/*
	 * The reader is made at the first look, from conf: an idle client would
	 * still keep a thread per broker for a rare fault.
	 */
	rd_kafka_conf_t *conf;
	char *topic;
	rd_kafka_t *reader;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	unsigned long asked; /* jobs asked so far */
	struct pmhc_recheck_job *jobs;
};

static bool stopping(struct pmhc_recheck *r)
{
	pthread_mutex_lock(&r->lock);
	bool s = r->stop;
	pthread_mutex_unlock(&r->lock);
	return s;
}

static void answer(struct pmhc_recheck *r, struct look *l, enum pmhc_recheck_answer a)
{
	l->decided = true;
	pthread_mutex_lock(&r->lock);
	l->job->answer = a;
	pthread_mutex_unlock(&r->lock);
}

/* Whether a job was asked since the round began: it ends, and the next takes it in. */
static bool asked_since(struct pmhc_recheck *r, const struct round *rd)
{
	pthread_mutex_lock(&r->lock);
	bool more = r->asked != rd->asked_at_start;
	pthread_mutex_unlock(&r->lock);
	return more;
}

/* Waits for unanswered jobs, and takes them all; false when stopped. */
static bool take_round(struct pmhc_recheck *r, struct round *rd)
{
	pthread_mutex_lock(&r->lock);
	for (;;) {
		size_t n = 0;
		for (struct pmhc_recheck_job *j = r->jobs; j != NULL; j = j->next)
			n += j->answer == PMHC_RECHECK_PENDING;
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			return false;
		}
		if (n == 0) {
			pthread_cond_wait(&r->wake, &r->lock);
			continue;
		}
		rd->topic = r->topic;
		rd->looks = calloc(n, sizeof *rd->looks);
		if (rd->looks == NULL) {
			/* Out of memory: the jobs wait, and are tried again in a moment. */
			pthread_mutex_unlock(&r->lock);
			pmhc_sleep_ms(RECHECK_RETRY_MS);
			pthread_mutex_lock(&r->lock);
			continue;
		}
		rd->n = 0;
		rd->asked_at_start = r->asked;
		for (struct pmhc_recheck_job *j = r->jobs; j != NULL; j = j->next)
			if (j->answer == PMHC_RECHECK_PENDING)
				rd->looks[rd->n++] = (struct look){ .job = j, .asked = -1 };
		pthread_mutex_unlock(&r->lock);
		return true;
	}
}

/* The partitions of the round, each from a minute before its earliest message looked for. */
static rd_kafka_topic_partition_list_t *start_offsets(const struct round *rd)
{
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)rd->n);
	for (size_t i = 0; i < rd->n; i++) {
		const struct pmhc_landed_want *w = &rd->looks[i].job->w;
		rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(parts, rd->topic, w->partition);
		int64_t from = w->made_ms - RECHECK_LOOKBACK_MS;
		if (tp == NULL)
			rd_kafka_topic_partition_list_add(parts, rd->topic, w->partition)->offset = from;
		else if (from < tp->offset)
			tp->offset = from;
	}
	return parts;
}

/*
 * Each partition's end (high watermark), asked of its leader, into the
 * offsets of ends. Asked with offsets_for_times and a "latest" stamp, not
 * rd_kafka_query_watermark_offsets: in librdkafka 2.0.2 that one retries a
 * dead leader for ever, whatever its timeout (seen with a leader SIGKILLed).
 */
static rd_kafka_resp_err_t ask_ends(struct pmhc_recheck *r, rd_kafka_topic_partition_list_t *ends)
{
	for (int i = 0; i < ends->cnt; i++)
		ends->elems[i].offset = RD_KAFKA_OFFSET_END;
	rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(r->reader, ends, RECHECK_LOOKUP_MS);
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < ends->cnt; i++)
		if ((e = ends->elems[i].err) == RD_KAFKA_RESP_ERR_NO_ERROR && ends->elems[i].offset < 0)
			e = RD_KAFKA_RESP_ERR__FAIL;
	return e;
}

/*
 * Where reading each partition starts: its first message stamped since the
 * lookback, or, with none, its end as it was before that was asked. The end
 * comes first: asked after, it could pass a message committed in between.
 */
static rd_kafka_resp_err_t resolve_starts(struct pmhc_recheck *r, rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_copy(parts);
	rd_kafka_resp_err_t e = ask_ends(r, ends);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		e = rd_kafka_offsets_for_times(r->reader, parts, RECHECK_LOOKUP_MS);
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < parts->cnt; i++) {
		e = parts->elems[i].err;
		if (parts->elems[i].offset < 0)
			parts->elems[i].offset = ends->elems[i].offset;
	}
	rd_kafka_topic_partition_list_destroy(ends);
	return e;
}

/* Assigns the round's partitions where reading must start; false when stopped first. */
static bool start_reading(struct pmhc_recheck *r, const struct round *rd)
{
	for (unsigned long tries = 0;; tries++) {
		rd_kafka_topic_partition_list_t *parts = start_offsets(rd);
		rd_kafka_resp_err_t e = resolve_starts(r, parts);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			e = rd_kafka_assign(r->reader, parts);
		for (size_t i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < rd->n; i++) {
			struct pmhc_recheck_job *j = rd->looks[i].job;
			j->watch.read_to = rd_kafka_topic_partition_list_find(parts, rd->topic, j->w.partition)->offset;
		}
		rd_kafka_topic_partition_list_destroy(parts);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return true;
		if (tries % RECHECK_LOG_EVERY == 0)
			pmhc_warn("msg=\"cannot yet look on the topic for recommendations the producer gave up on; "
				  "they are held, not sent again, until it can\" topic=%s error=\"%s\" tries=%lu "
				  "hint=\"the brokers must answer, and pmhcd's principal needs Read on the topic "
				  "(config/pmhcd-kafka-acls.sh)\"",
				  rd->topic, rd_kafka_err2str(e), tries + 1);
		if (stopping(r))
			return false;
		pmhc_sleep_ms(RECHECK_RETRY_MS);
	}
}

/* One message read: which of the round's jobs it answers. */
static void judge(struct pmhc_recheck *r, struct round *rd, const rd_kafka_message_t *m, int64_t now)
{
	rd_kafka_timestamp_type_t stamp;
	int64_t ts = rd_kafka_message_timestamp(m, &stamp);
	struct pmhc_landed_seen seen = { .key = m->key,
					 .key_len = m->key_len,
					 .val = m->payload,
					 .val_len = m->len,
					 .partition = m->partition,
					 .created_ms = stamp == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ts : -1 };
	rd_kafka_headers_t *hdrs = NULL;
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, PMHC_INSTANCE_HEADER, &seen.instance, &seen.instance_len) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
		seen.instance = NULL;
	for (size_t i = 0; i < rd->n; i++) {
		struct look *l = &rd->looks[i];
		if (l->decided || l->job->w.partition != m->partition)
			continue;
		l->job->watch.quiet_since_ms = now;
		l->job->watch.read_to = m->offset + 1;
		switch (pmhc_landed_judge(&l->job->w, &seen)) {
		case PMHC_LANDED_FOUND: answer(r, l, PMHC_RECHECK_LANDED); break;
		case PMHC_LANDED_PASSED: answer(r, l, PMHC_RECHECK_ABSENT); break;
		case PMHC_LANDED_NOTHING: break;
		}
	}
}

/*
 * Jobs whose partition has settled without them: not there. The end is asked
 * of the partition's leader each time, not taken from the last fetch: a
 * partition without a leader is not still, it is away, and what it wrote may
 * come back with it.
 */
static void settle(struct pmhc_recheck *r, struct round *rd, int64_t now)
{
	for (size_t i = 0; i < rd->n && !stopping(r); i++) {
		struct look *l = &rd->looks[i];
		if (l->decided)
			continue;
		struct pmhc_landed_watch *w = &l->job->watch;
		/* One question per partition and pass: an earlier look on it has the answer. */
		int64_t high = -1;
		size_t k = 0;
		while (k < i && (rd->looks[k].asked < 0 || rd->looks[k].decided ||
				 rd->looks[k].job->w.partition != l->job->w.partition))
			k++;
		if (k < i)
			high = rd->looks[k].asked;
		else {
			rd_kafka_topic_partition_list_t *end = rd_kafka_topic_partition_list_new(1);
			rd_kafka_topic_partition_list_add(end, rd->topic, l->job->w.partition);
			if (ask_ends(r, end) == RD_KAFKA_RESP_ERR_NO_ERROR)
				high = end->elems[0].offset;
			rd_kafka_topic_partition_list_destroy(end);
		}
		l->asked = high;
		if (high < 0 || high != w->high) {
			w->high = high;
			w->high_since_ms = now;
		}
		if (pmhc_landed_settled(w, now))
			answer(r, l, PMHC_RECHECK_ABSENT);
	}
}

static size_t undecided(const struct round *rd)
{
	size_t left = 0;
	for (size_t i = 0; i < rd->n; i++)
		left += !rd->looks[i].decided;
	return left;
}

static void run_round(struct pmhc_recheck *r, struct round *rd)
{
	pmhc_info("msg=\"looking on the topic for recommendations the producer gave up on as possibly written, "
		  "before sending them again\" topic=%s count=%zu",
		  rd->topic, rd->n);
	if (!start_reading(r, rd))
		return;
	int64_t now = pmhc_mono_ms(), next_high = now;
	for (size_t i = 0; i < rd->n; i++) {
		struct pmhc_recheck_job *j = rd->looks[i].job;
		if (!j->watched) {
			j->watched = true;
			j->watch.quiet_since_ms = j->watch.high_since_ms = now;
			j->watch.high = -1;
		}
	}
	unsigned long errors = 0;
	while (undecided(rd) > 0 && !stopping(r) && !asked_since(r, rd)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->reader, RECHECK_POLL_MS);
		now = pmhc_mono_ms();
		if (m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			judge(r, rd, m, now);
		else if (m != NULL) {
			/* An error restarts the settle time: quiet is a sign only while reading works. */
			for (size_t i = 0; i < rd->n; i++)
				if (!rd->looks[i].decided)
					rd->looks[i].job->watch.quiet_since_ms = now;
			if (errors++ % RECHECK_LOG_EVERY == 0)
				pmhc_warn("msg=\"error reading the topic for recommendations the producer gave up on\" "
					  "topic=%s error=\"%s\" errors=%lu",
					  rd->topic, pmhc_q(rd_kafka_message_errstr(m)), errors);
		}
		if (m != NULL)
			rd_kafka_message_destroy(m);
		if (now >= next_high) {
			settle(r, rd, now);
			next_high = now + RECHECK_HIGH_EVERY_MS;
		}
	}
	rd_kafka_assign(r->reader, NULL);
}

/* The reader, made at the first look and kept; false when stopped first. */
static bool have_reader(struct pmhc_recheck *r)
{
	for (unsigned long tries = 0; r->reader == NULL; tries++) {
		char err[RECHECK_ERR_LEN];
		rd_kafka_conf_t *conf = rd_kafka_conf_dup(r->conf);
		r->reader = pmhc_kafka_reader_create(conf, r->topic, err, sizeof err);
		if (r->reader != NULL)
			break;
		if (tries % RECHECK_LOG_EVERY == 0)
			pmhc_error(
				"msg=\"cannot make the reader that looks for recommendations the producer gave up on; "
				"they are held, not sent again, until it can\" error=\"%s\" tries=%lu",
				pmhc_q(err), tries + 1);
		if (stopping(r))
			return false;
		pmhc_sleep_ms(RECHECK_RETRY_MS);
	}
	return true;
}

static void *checker(void *arg)
{
	struct pmhc_recheck *r = arg;
	struct round rd;
	while (take_round(r, &rd)) {
		/* Jobs a stop leaves unanswered stay pending; the others are the main loop's to collect. */
		if (have_reader(r))
			run_round(r, &rd);
		free(rd.looks);
	}
	return NULL;
}

struct pmhc_recheck *pmhc_recheck_open(const struct pmhc_config *cfg, char *err, size_t errlen)
{
	struct pmhc_recheck *r = calloc(1, sizeof *r);
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->conf = pmhc_kafka_reader_conf(cfg, 0, err, errlen);
	if (r->conf == NULL)
		goto fail;
	if ((r->topic = strdup(cfg->topic_recommendations)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	int e = pthread_create(&r->thread, NULL, checker, r);
	if (e == 0)
		return r;
	snprintf(err, errlen, "cannot start the thread that looks for undelivered recommendations: %s", strerror(e));
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
fail:
	if (r->conf != NULL)
		rd_kafka_conf_destroy(r->conf);
	free(r->topic);
	free(r);
	return NULL;
}

struct pmhc_recheck_job *pmhc_recheck_ask(struct pmhc_recheck *r, const struct pmhc_landed_want *w)
{
	struct pmhc_recheck_job *j = calloc(1, sizeof *j);
	if (j == NULL)
		return NULL;
	j->w = *w;
	j->answer = PMHC_RECHECK_PENDING;
	pthread_mutex_lock(&r->lock);
	j->next = r->jobs;
	r->jobs = j;
	r->asked++;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	return j;
}

enum pmhc_recheck_answer pmhc_recheck_collect(struct pmhc_recheck *r, struct pmhc_recheck_job *j)
{
	pthread_mutex_lock(&r->lock);
	enum pmhc_recheck_answer a = j->answer;
	if (a != PMHC_RECHECK_PENDING)
		for (struct pmhc_recheck_job **at = &r->jobs; *at != NULL; at = &(*at)->next)
			if (*at == j) {
				*at = j->next;
				break;
			}
	pthread_mutex_unlock(&r->lock);
	if (a != PMHC_RECHECK_PENDING)
		free(j);
	return a;
}

void pmhc_recheck_close(struct pmhc_recheck *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	for (struct pmhc_recheck_job *j = r->jobs, *next; j != NULL; j = next) {
		next = j->next;
		free(j);
	}
	if (r->reader != NULL) {
		rd_kafka_consumer_close(r->reader);
		rd_kafka_destroy(r->reader);
	}
	rd_kafka_conf_destroy(r->conf);
	free(r->topic);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
