/* Instantiates the categorical kernels for double and float logits. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"
#include "categorical.h"
#include "sf_math.h"
#include "sf_stream.h"

/* Whether the sampler counts a row's draws by AVX-512 masks
 * (row_draws_masks in categorical_impl.h) and sums its sub-blocks by
 * AVX-512 shuffles (sf_sub_sums_avx512): on x86-64 with AVX-512F (GCC on
 * Linux, as SF_CLONES), unless a test turned it off to compare the two ways
 * (sf_cat_set_mask_counts). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SF_NO_CLONES)
#include <immintrin.h>
#define SF_MASK_COUNTS 1
static int mask_counts_on = 1;

static inline int sf_mask_counts(void)
{
    return mask_counts_on && __builtin_cpu_supports("avx512f");
}
#endif

/* The sums of groups of eight sub-blocks (SF_SUB = 8 classes each), cum[j]
 * = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) for sub-block j =
 * x[0..7], j < 8 n8, by AVX-512 (where sf_mask_counts() says so): the three
 * levels of the tree as adds of whole vectors after 14 shuffles, where the
 * vectorised loop transposes the 8 x 8 block first (24); the same
 * additions, so the same bits. */
#ifdef SF_MASK_COUNTS
__attribute__((target("avx512f")))
static void sf_sub_sums_avx512(sf_index n8, const double *e, double *cum)
{
    for (sf_index g = 0; g < n8; g++) {
        const double *x = e + 64 * g;
        __m512d s[4], t[2];
        /* (x0 + x1, y0 + y1, x2 + x3, y2 + y3, ...) for sub-blocks x, y */
        for (sf_index p = 0; p < 4; p++) {
            __m512d a = _mm512_loadu_pd(x + 16 * p), b = _mm512_loadu_pd(x + 16 * p + 8);
            s[p] = _mm512_add_pd(_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b));
        }
        /* the halves of four sub-blocks, (x0 + x1) + (x2 + x3) and (x4 +
         * x5) + (x6 + x7), from the 128-bit lanes of two of those */
        for (sf_index p = 0; p < 2; p++)
            t[p] = _mm512_add_pd(_mm512_shuffle_f64x2(s[2 * p], s[2 * p + 1], 0x88),
                                 _mm512_shuffle_f64x2(s[2 * p], s[2 * p + 1], 0xdd));
        _mm512_storeu_pd(cum + 8 * g, _mm512_add_pd(_mm512_shuffle_f64x2(t[0], t[1], 0x88),
                                                    _mm512_shuffle_f64x2(t[0], t[1], 0xdd)));
    }
}
#endif

void sf_cat_set_mask_counts(int on)
{
#ifdef SF_MASK_COUNTS
    mask_counts_on = on;
#else
    (void)on;
#endif
}

/* The output size from which this module's kernels stream (for tests). */
SF_STREAM_DEFINE_SETTER(sf_cat_set_stream_min)

#define SF_T double
#define SF_SUF d
#include "advantages_rows.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_rows.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

int sf_cat_zero_in_sampler(sf_index B, sf_index K, size_t itemsize)
{
    return sf_row_alone(K) && !sf_stream_wanted((size_t)(B * K) * itemsize);
}

/* Cloned, so that the 64-bit comparisons are vectorised (baseline x86-64
 * has none); one unsigned comparison finds both v < 0 and v >= K. */
SF_CLONES
int sf_cat_check_value(sf_index n, sf_index K, const int64_t *value)
{
    uint64_t bad = 0, k = (uint64_t)K;
    SF_SIMD_REDUCE(|, bad)
    for (sf_index j = 0; j < n; j++) bad |= (uint64_t)value[j] >= k;
    return bad ? SF_ERR_VALUE : SF_OK;
}
