/*
 * Shared definitions for the scorefast C kernels.
 *
 * The kernels are plain C99: they take pointers and sizes, never Python
 * objects, and report failures through integer status codes that the Cython
 * layer turns into exceptions.
 */
#ifndef SF_COMMON_H
#define SF_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

typedef ptrdiff_t sf_index;

/* Status codes returned by every kernel. */
enum {
    SF_OK = 0,
    SF_ERR_NOMEM = 1,       /* scratch allocation failed */
    SF_ERR_NAN = 2,         /* a NaN parameter */
    SF_ERR_POSINF = 3,      /* a +inf parameter (logits) */
    SF_ERR_ALL_MASKED = 4,  /* a row whose logits are all -inf */
    SF_ERR_VALUE = 5,       /* a value outside the support */
    SF_ERR_INF = 6,         /* an infinite parameter */
    SF_ERR_SCALE = 7        /* a scale that is not positive and finite */
};

/* Number of threads OpenMP would use by default (1 without OpenMP). */
int sf_max_threads(void);
/* 1 if the kernels were compiled with OpenMP, else 0. */
int sf_have_openmp(void);

/*
 * Rows of work below which a kernel stays on one thread: starting a parallel
 * region costs microseconds, more than small batches take in total.
 */
#define SF_PARALLEL_MIN_WORK 32768

/*
 * The block [*lo, *hi) of n work items that falls to the calling thread of
 * an OpenMP team, blocks in thread order (all n outside a parallel region,
 * or without OpenMP).  A kernel below its threshold for going parallel
 * calls its block function on all the items directly: even a parallel
 * region that its if clause makes serial costs a few tenths of a
 * microsecond, as much as a small batch's whole kernel.
 */
static inline void sf_thread_range(sf_index n, sf_index *lo, sf_index *hi)
{
#ifdef _OPENMP
    sf_index t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    sf_index t = 0, nt = 1;
#endif
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}

/* Coordinates per unit of work when a kernel splits a row between threads. */
#define SF_TILE 128
/* The widest tile of coordinates a kernel accumulates at once (its sums in L2). */
#define SF_WIDE 4096

/*
 * SF_CLONES compiles a function for AVX-512, AVX2+FMA and baseline x86-64,
 * choosing at load time (GCC's target_clones), so one build runs on any
 * x86-64 and uses the widest vectors present.  Row functions carry it, not
 * the exported kernels: OpenMP's outlined parallel regions would not inherit
 * it.  Elsewhere it is empty.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SF_NO_CLONES)
#define SF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SF_CLONES
#endif

/* A loop the compiler may vectorise (needs -fopenmp or -fopenmp-simd). */
#define SF_STR(x) #x
#define SF_SIMD _Pragma("omp simd")
/* ... whose iterations step var by step (an induction the vectoriser forms
 * by additions) */
#define SF_SIMD_LINEAR(var, step) _Pragma(SF_STR(omp simd linear(var : step)))
#define SF_SIMD_REDUCE(op, var) _Pragma(SF_STR(omp simd reduction(op : var)))
#define SF_SIMD_REDUCE2(op1, var1, op2, var2) \
    _Pragma(SF_STR(omp simd reduction(op1 : var1) reduction(op2 : var2)))

#endif
