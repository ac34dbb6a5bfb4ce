/* arena.h - the per-packet bump allocator.
 *
 * Owns: one fixed block of memory handed out in pieces and reset once per
 * packet.  The rewrite core allocates only from the arena it is given, so a
 * packet can never leak and memory per packet has a stated bound.
 */
#ifndef SIPNAT_ARENA_H
#define SIPNAT_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct arena {
	uint8_t *base;
	size_t size;
	size_t used;
};

/* 64 KiB message + its rewrite + edits and scan tables, with room to spare. */
#define ARENA_DEFAULT_SIZE (1u << 20)

int arena_init(struct arena *a, size_t size);	/* 0 or -1 (ENOMEM) */
void arena_free(struct arena *a);
void arena_reset(struct arena *a);
/* 16-byte aligned, zeroed; NULL when the arena is full. */
void *arena_alloc(struct arena *a, size_t n);

#endif
