/* The output cache (see output_cache.h). */
/* pthread, madvise and nanosleep under -std=c99, and (glibc) MADV_HUGEPAGE,
 * which the POSIX level alone would hide */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include "output_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define SF_CACHE_LOCKS 1
/* a mutex, not a spin lock: a holder descheduled with more threads than
 * cores would otherwise have the others spin out their time slices */
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static void cache_lock(void) { pthread_mutex_lock(&cache_mutex); }
static void cache_unlock(void) { pthread_mutex_unlock(&cache_mutex); }
/* fork() copies the mutex as it is: taken around it (as the C library does
 * its own allocator's locks), so that a child of a process in which another
 * thread held it is not left with a lock nobody will release */
static pthread_once_t cache_atfork_once = PTHREAD_ONCE_INIT;
static void cache_atfork(void) { pthread_atfork(cache_lock, cache_unlock, cache_unlock); }
#define SF_CACHE_ATFORK() pthread_once(&cache_atfork_once, cache_atfork)
#include <time.h>
#else
static void cache_lock(void) {}
static void cache_unlock(void) {}
#define SF_CACHE_ATFORK() ((void)0)
#endif

typedef struct {
    void *user;              /* the memory handed out */
    size_t cap;              /* its capacity in bytes */
    unsigned long long age;  /* when it was freed: the oldest goes first */
} sf_slot;

static sf_slot slots[SF_CACHE_SLOTS];
static size_t n_slots;
static size_t held, limit;
static unsigned long long clock_ticks;

/* A block's header, just before its memory: the pointer malloc returned
 * and the capacity. */
static void **header_raw(void *user) { return (void **)((char *)user - 2 * sizeof(void *)); }
static size_t *header_cap(void *user) { return (size_t *)((char *)user - sizeof(void *)); }

static void block_release(void *user)
{
    if (user) free(*header_raw(user));
}

/* A new block of cap bytes, 64-byte aligned, with huge pages asked for
 * where the kernel offers them (as numpy's own allocator asks for arrays of
 * 4 MiB and more). */
static void *block_new(size_t cap)
{
    if (cap > SIZE_MAX - SF_CACHE_HEADER - 64) return NULL;
    char *raw = (char *)malloc(cap + SF_CACHE_HEADER + 64);
    if (!raw) return NULL;
    uintptr_t at = ((uintptr_t)raw + SF_CACHE_HEADER + 63) & ~(uintptr_t)63;
    void *user = (void *)at;
    *header_raw(user) = raw;
    *header_cap(user) = cap;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (cap >= ((size_t)4 << 20)) {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t lo = (at + page - 1) & ~(page - 1), hi = (at + cap) & ~(page - 1);
        if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return user;
}

/* Take the oldest slot out, returning its block (under the lock). */
static void *evict_oldest(void)
{
    size_t o = 0;
    for (size_t i = 1; i < n_slots; i++)
        if (slots[i].age < slots[o].age) o = i;
    void *user = slots[o].user;
    held -= slots[o].cap;
    slots[o] = slots[--n_slots];
    return user;
}

void sf_cache_set_limit(size_t bytes)
{
    void *gone[SF_CACHE_SLOTS];
    size_t n_gone = 0;
    SF_CACHE_ATFORK();
    cache_lock();
    limit = bytes;
    while (n_slots > 0 && held > limit) gone[n_gone++] = evict_oldest();
    cache_unlock();
    for (size_t i = 0; i < n_gone; i++) block_release(gone[i]);
}

void sf_cache_state(size_t *limit_now, size_t *held_now, size_t *blocks_now)
{
    cache_lock();
    *limit_now = limit;
    *held_now = held;
    *blocks_now = n_slots;
    cache_unlock();
}

void *sf_cache_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size == 0) size = 1;
    void *user = NULL;
    cache_lock();
    /* the smallest held block that takes size with at most a quarter to
     * spare (a small output does not pin a large block) */
    size_t best = n_slots;                        /* none */
    for (size_t i = 0; i < n_slots; i++) {
        size_t cap = slots[i].cap;
        if (cap >= size && cap - size <= size / 4 &&
            (best == n_slots || cap < slots[best].cap))
            best = i;
    }
    if (best < n_slots) {
        user = slots[best].user;
        held -= slots[best].cap;
        slots[best] = slots[--n_slots];
    }
    cache_unlock();
    return user ? user : block_new(size);
}

void *sf_cache_calloc(void *ctx, size_t nelem, size_t elsize)
{
    if (elsize && nelem > SIZE_MAX / elsize) return NULL;
    size_t size = nelem * elsize;
    void *user = sf_cache_malloc(ctx, size);
    if (user) memset(user, 0, size);
    return user;
}

void *sf_cache_realloc(void *ctx, void *ptr, size_t new_size)
{
    if (!ptr) return sf_cache_malloc(ctx, new_size);
    size_t cap = *header_cap(ptr);
    if (new_size <= cap) return ptr;
    void *user = sf_cache_malloc(ctx, new_size);
    if (!user) return NULL;
    memcpy(user, ptr, cap);
    sf_cache_free(ctx, ptr, cap);
    return user;
}

void sf_cache_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;             /* the header's capacity is the block's size */
    if (!ptr) return;
#ifdef SF_CACHE_LOCKS
    void *gone[SF_CACHE_SLOTS + 1];
    size_t n_gone = 0;
    size_t cap = *header_cap(ptr);
    cache_lock();
    if (cap <= limit) {
        while (n_slots > 0 && (held + cap > limit || n_slots == SF_CACHE_SLOTS))
            gone[n_gone++] = evict_oldest();
        slots[n_slots].user = ptr;
        slots[n_slots].cap = cap;
        slots[n_slots].age = ++clock_ticks;
        n_slots++;
        held += cap;
        ptr = NULL;
    }
    cache_unlock();
    for (size_t i = 0; i < n_gone; i++) block_release(gone[i]);
#endif
    block_release(ptr);
}

void sf_cache_hold_lock(double seconds)
{
    SF_CACHE_ATFORK();
    cache_lock();
#ifdef SF_CACHE_LOCKS
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
#endif
    cache_unlock();
}
