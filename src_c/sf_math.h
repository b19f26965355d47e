/* Scalar functions shared by the kernels, stable over the whole range. */
#ifndef SF_MATH_H
#define SF_MATH_H

#include <math.h>

/* log(1 + exp(t)) without overflow or loss of precision. */
static inline double sf_softplus(double t)
{
    return (t > 0.0 ? t : 0.0) + log1p(exp(-fabs(t)));
}

/* 1 / (1 + exp(-t)), written so that exp never overflows. */
static inline double sf_sigmoid(double t)
{
    if (t >= 0.0) return 1.0 / (1.0 + exp(-t));
    double e = exp(t);
    return e / (1.0 + e);
}

#define SF_LOG_SQRT_2PI 0.91893853320467274178032973640561764

#endif
