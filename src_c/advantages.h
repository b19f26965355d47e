/*
 * Baselines along the sample axis, column by column: rewards (S, M),
 * C-contiguous, sample s of column m at s*M + m; advantages written the
 * same way, multiplied by scale.
 *
 *   SF_BASE_NONE   adv = r
 *   SF_BASE_CONST  adv = r - c
 *   SF_BASE_MEAN   adv = r - mean(r)
 *   SF_BASE_LOO    adv = r - mean of the other samples = S/(S-1) (r - mean(r))
 *   SF_BASE_GROUP  adv = (r - mean(r)) / (std(r) + eps), std over S - ddof
 *
 * Means are computed shifted by the column's first reward, in two passes, so
 * a column of equal rewards gets advantages of exactly zero.  The centred
 * kinds (MEAN, LOO, GROUP) give advantages that sum to zero over s exactly
 * in real arithmetic; sf_baseline_is_centred says which those are.
 */
#ifndef SF_ADVANTAGES_H
#define SF_ADVANTAGES_H

#include "sf_common.h"

enum {
    SF_BASE_NONE = 0,
    SF_BASE_CONST = 1,
    SF_BASE_MEAN = 2,
    SF_BASE_LOO = 3,
    SF_BASE_GROUP = 4
};

static inline int sf_baseline_is_centred(int kind)
{
    return kind == SF_BASE_MEAN || kind == SF_BASE_LOO || kind == SF_BASE_GROUP;
}

#define SF_ADV_DECLARE(T, SUF)                                                  \
int sf_advantages_##SUF(sf_index S, sf_index M, const T *rewards, int kind,      \
                        double c, double eps, double ddof, double scale,        \
                        T *adv);                                                 \
/* SF_ERR_NAN or SF_ERR_INF if some x[j], j < n, is NaN or infinite (NaN     */ \
/* first), else SF_OK: the check that rewards and weights get.               */ \
int sf_check_finite_##SUF(sf_index n, const T *x);

SF_ADV_DECLARE(double, d)
SF_ADV_DECLARE(float, f)

#undef SF_ADV_DECLARE

#endif
