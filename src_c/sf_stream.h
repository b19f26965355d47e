/*
 * Streaming (non-temporal) stores for outputs too large to stay in cache.
 *
 * A kernel whose outputs run to tens of megabytes writes each tile of them
 * into a small buffer in L1 first and copies the buffer out with stores that
 * bypass the caches: an ordinary store to a line not in cache reads the line
 * from memory before writing it, and for outputs past the last-level cache
 * that read doubles the traffic (64 MB written in 7.5 ms with ordinary
 * stores, 2.7-3.0 ms streamed, on the development machine).  Below
 * SF_STREAM_MIN_BYTES of output from one call the gain is gone: an ordinary
 * store is as fast up to about 16 MB, and leaves the output in cache for
 * the next reader, which streamed output is not (B1 large in float32, 32 MB
 * of draws and log-probabilities: its sample as fast either way, its step
 * 1.03x the time streamed), so kernels stream only past it.  SSE2's 16-byte streaming store is in every x86-64 and fills a
 * line as fast as the widest; elsewhere the copy is a memcpy.  A thread
 * that streamed calls sf_stream_fence before its results are read by
 * another (the stores are weakly ordered).
 */
#ifndef SF_STREAM_H
#define SF_STREAM_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) || defined(__x86_64__)
#include <emmintrin.h>
#define SF_HAVE_STREAM 1
#else
#define SF_HAVE_STREAM 0
#endif

#ifndef SF_STREAM_MIN_BYTES
#define SF_STREAM_MIN_BYTES ((size_t)64 << 20)
#endif

/* The threshold in force in this translation unit: SF_STREAM_MIN_BYTES,
 * or what a test set through its module's setter (sf_cat_set_stream_min,
 * sf_bern_set_stream_min, sf_gauss_set_stream_min), so that small outputs
 * take the streamed path and are checked against the ordinary one. */
static size_t sf_stream_min_bytes = SF_STREAM_MIN_BYTES;

/* Defines a module's setter: `size_t name(size_t bytes)` sets the threshold
 * of its translation unit and returns the previous one. */
#define SF_STREAM_DEFINE_SETTER(name)                 \
    size_t name(size_t bytes)                         \
    {                                                 \
        size_t previous = sf_stream_min_bytes;        \
        sf_stream_min_bytes = bytes;                  \
        return previous;                              \
    }

/* 1 if a kernel writing this many bytes of output streams them. */
static inline int sf_stream_wanted(size_t bytes)
{
    return SF_HAVE_STREAM && bytes >= sf_stream_min_bytes;
}

/* dst[0..bytes) = src[0..bytes), the aligned 16-byte blocks of dst by
 * streaming stores, its unaligned ends by ordinary ones. */
static inline void sf_stream_copy(void *dst, const void *src, size_t bytes)
{
#if SF_HAVE_STREAM
    char *d = (char *)dst;
    const char *s = (const char *)src;
    size_t head = (16 - ((uintptr_t)d & 15)) & 15;
    if (head > bytes) head = bytes;
    memcpy(d, s, head);
    d += head;
    s += head;
    bytes -= head;
    for (; bytes >= 16; bytes -= 16, d += 16, s += 16)
        _mm_stream_si128((__m128i *)d, _mm_loadu_si128((const __m128i *)s));
    memcpy(d, s, bytes);
#else
    memcpy(dst, src, bytes);
#endif
}

/* Orders the calling thread's streaming stores before what follows. */
static inline void sf_stream_fence(void)
{
#if SF_HAVE_STREAM
    _mm_sfence();
#endif
}

#endif
