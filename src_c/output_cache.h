/*
 * The output cache: a bounded set of freed blocks of large outputs, handed
 * out again for the next outputs of a fitting size.
 *
 * A training loop frees a step's outputs and asks for outputs of the same
 * sizes at the next step.  Memory new to the process costs a page fault and
 * the kernel's zeroing of every page before a kernel writes it; for tens of
 * megabytes of outputs that is as much as the kernels' own work.  Blocks
 * kept here are reused without either.
 *
 * The functions have the signatures of numpy's PyDataMem_Handler (NEP 49),
 * whose free is told the size; a block carries its capacity in a header of
 * SF_CACHE_HEADER bytes before the memory handed out, which keeps 64-byte
 * alignment.  Thread safe: the cache's slots are guarded by a mutex held for
 * a few loads and stores, never across an allocation or a free.  Where there
 * are no POSIX threads the cache holds nothing (every free is a free).
 */
#ifndef SF_OUTPUT_CACHE_H
#define SF_OUTPUT_CACHE_H

#include <stddef.h>

/* Outputs of at least this many bytes are allocated through the cache. */
#define SF_CACHE_MIN_BYTES ((size_t)1 << 20)
/* The most blocks it holds at once. */
#define SF_CACHE_SLOTS 16
#define SF_CACHE_HEADER 64

/* The most bytes of freed blocks the cache holds (0: none); setting a
 * smaller limit frees the oldest blocks down to it. */
void sf_cache_set_limit(size_t bytes);
/* The limit, and the bytes (capacities) and number of the freed blocks held
 * now. */
void sf_cache_state(size_t *limit, size_t *held, size_t *blocks);

/* For the tests: hold the cache's lock for that many seconds. */
void sf_cache_hold_lock(double seconds);

void *sf_cache_malloc(void *ctx, size_t size);
void *sf_cache_calloc(void *ctx, size_t nelem, size_t elsize);
void *sf_cache_realloc(void *ctx, void *ptr, size_t new_size);
void sf_cache_free(void *ctx, void *ptr, size_t size);

#endif
