#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct pmhc_arena_chunk {
	struct pmhc_arena_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

static void *pb_alloc(void *data, size_t size)
{
	return pmhc_arena_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

void pmhc_arena_init(struct pmhc_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size;
	a->bytes = 0;
	a->pb = (ProtobufCAllocator){ pb_alloc, pb_free, a };
}

void *pmhc_arena_alloc(struct pmhc_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	struct pmhc_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < size) {
		/* An oversized request gets a chunk of its own, behind the current one. */
		size_t cap = size > a->chunk_size ? size : a->chunk_size;
		struct pmhc_arena_chunk *n = malloc(sizeof *n + cap);
		if (n == NULL)
			return NULL;
		n->size = cap;
		n->used = 0;
		if (c != NULL && size > a->chunk_size) {
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			a->head = n;
		}
		c = n;
	}
	void *p = c->data + c->used;
	c->used += size;
	a->bytes += size;
	return p;
}

char *pmhc_arena_strdup(struct pmhc_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pmhc_arena_alloc(a, n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

void pmhc_arena_reset(struct pmhc_arena *a)
{
	struct pmhc_arena_chunk *keep = NULL;
	for (struct pmhc_arena_chunk *c = a->head, *next; c != NULL; c = next) {
		next = c->next;
		if (keep == NULL && c->size == a->chunk_size) {
			keep = c;
			continue;
		}
		free(c);
	}
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
	a->bytes = 0;
}

void pmhc_arena_destroy(struct pmhc_arena *a)
{
	pmhc_arena_reset(a);
	free(a->head);
	a->head = NULL;
}
