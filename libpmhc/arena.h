/*
 * A bump allocator reset once per batch (PostgreSQL's memory-context idea):
 * decoded messages and their strings live until the batch is written, then go
 * all at once. It doubles as a ProtobufCAllocator whose free does nothing.
 */
#ifndef PMHC_ARENA_H
#define PMHC_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct pmhc_arena_chunk;

struct pmhc_arena {
	struct pmhc_arena_chunk *head; /* newest chunk first */
	size_t chunk_size;
	size_t bytes;          /* handed out since the last reset */
	ProtobufCAllocator pb; /* allocator_data points back here */
};

void pmhc_arena_init(struct pmhc_arena *a, size_t chunk_size);
/* NULL only when out of memory. Aligned for any object. */
void *pmhc_arena_alloc(struct pmhc_arena *a, size_t size);
char *pmhc_arena_strdup(struct pmhc_arena *a, const char *s);
/* Keeps the first chunk for reuse, frees the rest. */
void pmhc_arena_reset(struct pmhc_arena *a);
void pmhc_arena_destroy(struct pmhc_arena *a);

#endif
