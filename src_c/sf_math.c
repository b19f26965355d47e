/* The vectorised scalar functions over arrays, for tests and benchmarks. */
#include "sf_common.h"
#include "sf_math.h"

SF_CLONES
void sf_exp_array(sf_index n, const double *x, double *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_exp(x[j]);
}
