#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/*
 * The arena's chunk: 256 KiB, so a batch of ordinary calls takes few mallocs and
 * one chunk holds a message as large as limits.max_message_bytes allows by default.
 */
#define ARENA_CHUNK (256 * 1024)

/*
 * A batch array's first room; doubling from there reaches limits.batch_max_events'
 * default (2000) in five reallocs, and a batch of a few events wastes little.
 */
#define GROW_FIRST 64

struct pmhc_batch *pmhc_batch_new(const struct pmhc_config *cfg)
{
	struct pmhc_batch *b = calloc(1, sizeof *b);
	if (b == NULL)
		return NULL;
	pmhc_arena_init(&b->arena, ARENA_CHUNK);
	b->opened_ms = pmhc_mono_ms();
	/* The writer has no config: what it needs to name a refused row travels here. */
	b->topic_calls = pmhc_arena_strdup(&b->arena, cfg->topic_calls);
	b->topic_dispositions = pmhc_arena_strdup(&b->arena, cfg->topic_dispositions);
	if (b->topic_calls == NULL || b->topic_dispositions == NULL) {
		pmhc_arena_destroy(&b->arena);
		free(b);
		return NULL;
	}
	return b;
}

void pmhc_batch_free(struct pmhc_batch *b)
{
	if (b == NULL)
		return;
	pmhc_arena_destroy(&b->arena);
	free(b->rows);
	free(b->rows_raw);
	free(b->dispositions);
	free(b->dispositions_raw);
	free(b->rejected);
	free(b->units);
	free(b->poison);
	free(b->marks);
	free(b);
}

size_t pmhc_batch_size(const struct pmhc_batch *b)
{
	return b->n_messages + b->n_units;
}

size_t pmhc_batch_bytes(const struct pmhc_batch *b)
{
	return sizeof *b + b->arena.bytes + b->cap_rows * sizeof *b->rows + b->cap_rows_raw * sizeof *b->rows_raw +
	       b->cap_dispositions * sizeof *b->dispositions + b->cap_dispositions_raw * sizeof *b->dispositions_raw +
	       b->cap_rejected * sizeof *b->rejected + b->cap_units * sizeof *b->units +
	       b->cap_poison * sizeof *b->poison + b->cap_marks * sizeof *b->marks;
}

/* Grows a batch array by doubling; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : GROW_FIRST;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

/* Appends a copy of item to an array of n elements; false when out of memory. */
static bool append(void **arr, size_t *n, size_t *cap, const void *item, size_t elem)
{
	if (grow(arr, cap, *n + 1, elem) != 0)
		return false;
	memcpy((char *)*arr + *n * elem, item, elem);
	(*n)++;
	return true;
}

/* Appends to the array field of b, kept with its n_field and cap_field. */
#define APPEND(b, field, item)                                                                                         \
	append((void **)&(b)->field, &(b)->n_##field, &(b)->cap_##field, (item), sizeof *(b)->field)

/* m's value and key, copied into the arena; false when out of memory. */
static bool keep_raw(struct pmhc_batch *b, const rd_kafka_message_t *m, struct pmhc_raw *raw)
{
	*raw = (struct pmhc_raw){ NULL, m->len, NULL, m->key_len };
	void *val = pmhc_arena_alloc(&b->arena, m->len);
	if (val == NULL)
		return false;
	if (m->len > 0)
		memcpy(val, m->payload, m->len);
	raw->val = val;
	if (m->key == NULL)
		return true;
	void *key = pmhc_arena_alloc(&b->arena, m->key_len);
	if (key == NULL)
		return false;
	if (m->key_len > 0)
		memcpy(key, m->key, m->key_len);
	raw->key = key;
	return true;
}

bool pmhc_batch_add_call(struct pmhc_batch *b, const struct pmhc_call_row *row, const rd_kafka_message_t *m)
{
	struct pmhc_raw raw;
	if (!keep_raw(b, m, &raw) || !APPEND(b, rows_raw, &raw))
		return false;
	if (APPEND(b, rows, row))
		return true;
	b->n_rows_raw--;
	return false;
}

bool pmhc_batch_add_disposition(struct pmhc_batch *b, const struct pmhc_disposition_row *row,
				const rd_kafka_message_t *m)
{
	struct pmhc_raw raw;
	if (!keep_raw(b, m, &raw) || !APPEND(b, dispositions_raw, &raw))
		return false;
	if (APPEND(b, dispositions, row))
		return true;
	b->n_dispositions_raw--;
	return false;
}

bool pmhc_batch_add_unit(struct pmhc_batch *b, const struct pmhc_unit_row *row)
{
	return APPEND(b, units, row);
}

bool pmhc_batch_add_rejected(struct pmhc_batch *b, const struct pmhc_rejected_row *row)
{
	return APPEND(b, rejected, row);
}

bool pmhc_batch_add_poison(struct pmhc_batch *b, const struct pmhc_poison *x)
{
	return APPEND(b, poison, x);
}

int pmhc_batch_mark(struct pmhc_batch *b, const rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	for (size_t i = 0; i < b->n_marks; i++) {
		if (b->marks[i].partition == m->partition && strcmp(b->marks[i].topic, topic) == 0) {
			if (m->offset > b->marks[i].offset)
				b->marks[i].offset = m->offset;
			return 0;
		}
	}
	char *t = pmhc_arena_strdup(&b->arena, topic);
	if (t == NULL)
		return -1;
	struct pmhc_offset_mark mark = { t, m->partition, m->offset };
	return APPEND(b, marks, &mark) ? 0 : -1;
}

void pmhc_batch_store_offsets(const struct pmhc_batch *b, rd_kafka_t *consumer)
{
	if (b->n_marks == 0)
		return;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)b->n_marks);
	for (size_t i = 0; i < b->n_marks; i++)
		rd_kafka_topic_partition_list_add(list, b->marks[i].topic, b->marks[i].partition)->offset =
			b->marks[i].offset + 1; /* the stored offset is the next message to read */
	rd_kafka_resp_err_t e = rd_kafka_offsets_store(consumer, list);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		pmhc_debug("msg=\"offsets not stored (partition revoked meanwhile?)\" error=\"%s\"",
			   rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_destroy(list);
}
