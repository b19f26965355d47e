/* Instantiates the categorical kernels for double and float logits. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"
#include "categorical.h"
#include "sf_math.h"

int sf_cat_mask_counts = 1;

void sf_cat_set_mask_counts(int on)
{
    sf_cat_mask_counts = on;
}

#define SF_T double
#define SF_SUF d
#include "advantages_column.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_column.h"
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
