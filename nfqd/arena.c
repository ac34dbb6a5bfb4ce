/* arena.c - see arena.h. */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

int arena_init(struct arena *a, size_t size)
{
	a->base = malloc(size);
	a->size = a->base ? size : 0;
	a->used = 0;
	return a->base ? 0 : -1;
}

void arena_free(struct arena *a)
{
	free(a->base);
	a->base = NULL;
	a->size = a->used = 0;
}

void arena_reset(struct arena *a)
{
	a->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t start = (a->used + 15u) & ~(size_t)15u;
	void *p;

	if (start > a->size || n > a->size - start)
		return NULL;
	p = a->base + start;
	a->used = start + n;
	memset(p, 0, n);
	return p;
}
