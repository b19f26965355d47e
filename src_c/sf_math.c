/* The vectorised scalar functions over arrays, for tests and benchmarks. */
#include "sf_common.h"
#include "sf_math.h"

SF_CLONES
void sf_exp_array(sf_index n, const double *x, double *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_exp(x[j]);
}

SF_CLONES
void sf_exp_nonpos_array(sf_index n, const double *x, double *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_exp_nonpos(x[j]);
}

SF_CLONES
void sf_expf_array(sf_index n, const float *x, float *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_expf(x[j]);
}

SF_CLONES
void sf_expf_nonpos_array(sf_index n, const float *x, float *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_expf_nonpos(x[j]);
}

SF_CLONES
void sf_expf_nonpos_sub_array(sf_index n, const float *x, float *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_expf_nonpos_sub(x[j]);
}

SF_CLONES
void sf_log_array(sf_index n, const double *x, double *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_log(x[j]);
}

SF_CLONES
void sf_logf_array(sf_index n, const float *x, float *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_logf(x[j]);
}

#include "sf_random.h"

SF_CLONES
void sf_normal_fill(sf_index n, uint64_t key, uint64_t offset, double *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_counter_normal(key, offset + (uint64_t)j);
}

SF_CLONES
void sf_normal_fill_f(sf_index n, uint64_t key, uint64_t offset, float *y)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) y[j] = sf_counter_normal_f(key, offset + (uint64_t)j);
}

SF_CLONES
void sf_normal_quantile_array(sf_index n, const double *p, double *z)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) z[j] = sf_normal_quantile(p[j]);
}
