#include "backfill.h"

#include <stdlib.h>
#include <sysexits.h>

#include "clock.h"
#include "log.h"
#include "pipeline_int.h"

/*
 * Backfill trades latency, which nobody waits on, for large COPY batches: at
 * least 20,000 events or a second's worth, whatever the live limits say.
 */
#define BACKFILL_BATCH_MIN_EVENTS 20000
#define BACKFILL_BATCH_MIN_MS 1000

/*
 * A final pass the server refused for its own reasons (a deadlock with a live
 * writer, a failover) is tried again from a second, up to every 10 s, as the
 * writer retries a batch.
 */
#define PASS_RETRY_FIRST_MS 1000
#define PASS_RETRY_CAP_MS 10000

size_t pmhc_backfill_batch_events(const struct pipeline *p)
{
	size_t n = (size_t)p->cfg->batch_max_events;
	return p->mode == PMHC_MODE_BACKFILL && n < BACKFILL_BATCH_MIN_EVENTS ? BACKFILL_BATCH_MIN_EVENTS : n;
}

int64_t pmhc_backfill_batch_ms(const struct pipeline *p)
{
	int64_t ms = p->cfg->batch_max_ms;
	return p->mode == PMHC_MODE_BACKFILL && ms < BACKFILL_BATCH_MIN_MS ? BACKFILL_BATCH_MIN_MS : ms;
}

void pmhc_backfill_mark_end(struct pipeline *p, int32_t partition, bool at_end)
{
	struct backfill_progress *bf = &p->bf;
	if (p->mode != PMHC_MODE_BACKFILL || partition < 0 || (size_t)partition >= bf->n_at_end_slots)
		return;
	if (bf->at_end[partition] != at_end) {
		bf->at_end[partition] = at_end;
		if (at_end)
			bf->not_at_end--;
		else
			bf->not_at_end++;
	}
}

void pmhc_backfill_assigned(struct pipeline *p, const rd_kafka_topic_partition_list_t *parts)
{
	if (p->mode != PMHC_MODE_BACKFILL)
		return;
	int32_t max = -1;
	for (int i = 0; i < parts->cnt; i++)
		if (parts->elems[i].partition > max)
			max = parts->elems[i].partition;
	/* A slot for each partition up to max, and one more so that an empty assignment is no calloc(0). */
	bool *slots = calloc((size_t)max + 2, sizeof *slots);
	if (slots == NULL) {
		pmhc_error("msg=\"out of memory tracking partitions\"");
		return;
	}
	free(p->bf.at_end);
	p->bf.at_end = slots;
	p->bf.n_at_end_slots = (size_t)max + 1;
	p->bf.assigned = (size_t)parts->cnt;
	p->bf.not_at_end = (size_t)parts->cnt;
}

void pmhc_backfill_revoked(struct pipeline *p)
{
	if (p->mode == PMHC_MODE_BACKFILL)
		p->bf.assigned = p->bf.not_at_end = 0;
}

bool pmhc_backfill_finished(struct pipeline *p)
{
	if (p->mode != PMHC_MODE_BACKFILL || p->bf.assigned == 0 || p->bf.not_at_end > 0)
		return false;
	/* Backfill is done when every partition was read to its end and all of it is durable. */
	if ((p->current == NULL || pmhc_batch_size(p->current) == 0) && pmhc_writer_idle(&p->w)) {
		pmhc_info("msg=\"backfill caught up with every partition\" calls=%lu dispositions=%lu took_s=%.1f",
			  p->st.calls, p->st.dispositions, (double)(pmhc_mono_ms() - p->started_ms) / MS_PER_S);
		p->bf.caught_up = true;
		return true;
	}
	pmhc_pipeline_seal(p); /* nothing more is coming: do not wait out the batch age */
	return false;
}

/* One try of the pass; true when done (logged). */
static bool final_pass_once(struct pipeline *p, int64_t t0)
{
	struct pmhc_backfill_pass r;
	if (pmhc_store_finish_backfill(p->w.store, &p->sig->stop, &r) != 0)
		return false;
	int64_t now = pmhc_mono_ms();
	pmhc_info("msg=\"backfill's final pass done: hourly summary and repeat flags current\" subjects=%lld "
		  "calls_changed=%lld hours=%lld pass_s=%.1f took_s=%.1f",
		  r.subjects, r.calls_changed, r.hours, (double)(now - t0) / MS_PER_S,
		  (double)(now - p->started_ms) / MS_PER_S);
	return true;
}

int pmhc_backfill_final_pass(struct pipeline *p)
{
	if (p->mode != PMHC_MODE_BACKFILL || !p->bf.caught_up)
		return EX_OK;
	if (p->w.orphaned) {
		pmhc_warn("msg=\"final pass not run: the writer is still busy; the next pmhcd --backfill runs it\"");
		return EX_TEMPFAIL;
	}
	pmhc_info("msg=\"backfill's final pass: recomputing the hourly summary and repeat flags the history left\"");
	int64_t t0 = pmhc_mono_ms();
	long backoff = PASS_RETRY_FIRST_MS;
	for (;;) {
		if (!p->sig->stop && final_pass_once(p, t0))
			return EX_OK;
		if (p->sig->stop) {
			pmhc_warn(
				"msg=\"stopped before the final pass was done; it waits for the next pmhcd --backfill, "
				"which reads nothing twice and runs it\"");
			return EX_OK;
		}
		const char *state = pmhc_store_last_sqlstate(p->w.store);
		bool lost = pmhc_store_connection_lost(p->w.store);
		if ((!lost && pmhc_store_error_persistent(state)) ||
		    pmhc_mono_ms() - t0 >= (int64_t)p->cfg->stall_exit_s * MS_PER_S) {
			pmhc_error(
				"msg=\"backfill's final pass failed; exiting with 75 (EX_TEMPFAIL)\" sqlstate=%s "
				"error=\"%s\" hint=\"the history is stored and its offsets committed; run pmhcd "
				"--backfill again once PostgreSQL takes the pass: it reads nothing twice and runs it\"",
				state[0] ? state : "-", pmhc_q(pmhc_store_last_error(p->w.store)));
			return EX_TEMPFAIL;
		}
		pmhc_warn("msg=\"backfill's final pass failed; retrying\" sqlstate=%s error=\"%s\" retry_in_ms=%ld",
			  state[0] ? state : "-", pmhc_q(pmhc_store_last_error(p->w.store)), backoff);
		pmhc_sleep_ms(backoff);
		backoff = pmhc_backoff_next(backoff, PASS_RETRY_CAP_MS);
	}
}
