/* Instantiates the categorical kernels for double and float logits. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"
#include "categorical.h"
#include "sf_math.h"
#include "sf_stream.h"

/* Whether the sampler counts a row's draws by AVX-512 masks
 * (row_draws_masks in categorical_impl.h): on x86-64 with AVX-512F (GCC on
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
#include "advantages_column.h"
#include "advantages_rows.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_column.h"
#include "advantages_rows.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

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
