/* Scalar functions shared by the kernels, stable over the whole range. */
#ifndef SF_MATH_H
#define SF_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The element functions here, in sf_random.h and in the kernels' loops are
 * always inlined: a loop can be vectorised only with its calls inlined, and
 * GCC's unit-growth limits would otherwise leave a copy out of line (and
 * every loop that calls it scalar, each fma a libm call) once a source file
 * grows past them.  tests/test_inlining.py checks the built modules. */
#ifndef SF_INLINE
#if defined(__GNUC__) || defined(__clang__)
#define SF_INLINE static inline __attribute__((always_inline))
#else
#define SF_INLINE static inline
#endif
#endif

/* The reduction both exps share: x = n ln2 + r with |r| <= ln2/2
 * (Cody-Waite, ln2 split in two so that n * ln2_hi is exact), returning r
 * and, in *t, x / ln2 rounded to an integer n by adding 1.5 * 2^52 (whose
 * low bits then hold n). */
#define SF_EXP_SHIFTER 0x1.8p52
SF_INLINE double sf_exp_reduce(double x, double *t)
{
    const double log2e = 0x1.71547652b82fep0;
    const double ln2_hi = 0x1.62e42fee00000p-1;
    const double ln2_lo = 0x1.a39ef35793c76p-33;
    *t = __builtin_fma(x, log2e, SF_EXP_SHIFTER);
    double n = *t - SF_EXP_SHIFTER;
    return __builtin_fma(-n, ln2_lo, __builtin_fma(-n, ln2_hi, x));
}

/* exp(r) for |r| <= ln2/2: 1 + r + r^2 q(r), q of degree 9 fitted to
 * (exp(r) - 1 - r) / r^2 at the Chebyshev nodes of the interval
 * (tools/exp_poly.py prints the coefficients and the error), by Horner's
 * rule: eleven multiply-adds where the Taylor polynomial of the same
 * accuracy takes thirteen (relative error below 2e-17 with these double
 * coefficients, 0.15 ulp, before rounding; the exponential 0.91x the time). */
SF_INLINE double sf_exp_poly(double r)
{
    double p = 0x1.af389ecfc4b9cp-26;
    p = __builtin_fma(p, r, 0x1.28917c89a43a7p-22);
    p = __builtin_fma(p, r, 0x1.71de0db2f6b19p-19);
    p = __builtin_fma(p, r, 0x1.a019b9149a41cp-16);
    p = __builtin_fma(p, r, 0x1.a01a01a7c2efep-13);
    p = __builtin_fma(p, r, 0x1.6c16c17889ef1p-10);
    p = __builtin_fma(p, r, 0x1.11111111109b5p-7);
    p = __builtin_fma(p, r, 0x1.5555555553d68p-5);
    p = __builtin_fma(p, r, 0x1.5555555555556p-3);
    p = __builtin_fma(p, r, 0x1.0000000000001p-1);
    p = __builtin_fma(p, r, 1.0);
    return __builtin_fma(p, r, 1.0);
}

/*
 * Vectorisable exp: a branch-free function that the compiler inlines into
 * simple loops and turns into SIMD code (loops marked `#pragma omp simd`
 * in functions compiled for several targets, see SF_CLONES).
 *
 * x = n ln2 + r (sf_exp_reduce), exp(r) by sf_exp_poly, and 2^n applied in
 * two halves so that results between the smallest subnormal and the largest
 * double are reached without overflow in the scale.  Error within about
 * 1 ulp of the correctly rounded exp over the whole range (tested against
 * libm); exp(-inf) = 0, exp(+inf) = inf, NaN propagates.  Below -746,
 * where exp rounds to 0, the 0 is selected and the arithmetic runs on x = 0
 * instead: carried out, it would underflow, and a product that underflows
 * costs a microcode assist on x86 processors (a masked class, logit -inf,
 * cost ten times an ordinary one).  The fused multiply-adds are explicit, so
 * a target without FMA computes them exactly too (more slowly).
 */
SF_INLINE double sf_exp(double x)
{
    const double shifter = SF_EXP_SHIFTER;
    double xc = x > 709.8 ? 709.8 : x;
    xc = xc < -746.0 ? 0.0 : xc;
    double t;
    double r = sf_exp_reduce(xc, &t);
    int64_t t_bits, s_bits;
    memcpy(&t_bits, &t, sizeof t);
    memcpy(&s_bits, &shifter, sizeof shifter);
    int64_t ni = t_bits - s_bits;                  /* n as an integer */
    double p = sf_exp_poly(r);
    int64_t n1 = ni >> 1, n2 = ni - n1;
    /* shifted as unsigned: a NaN x makes n1 + 1023 out of range, and a
     * signed left shift of it would be undefined behaviour */
    uint64_t b1 = (uint64_t)(n1 + 1023) << 52, b2 = (uint64_t)(n2 + 1023) << 52;
    double s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    double y = p * s1 * s2;
    return x != x ? x : x < -746.0 ? 0.0 : y;
}

/*
 * exp(x) for x in [-inf, 0] or NaN: the exponentials of a row's logits less
 * its maximum, the log-probabilities, exp(-|t|) in the sigmoid.  The
 * reduction and polynomial of sf_exp, with the checks that range makes
 * needless left out: no overflow, and 2^n built in one step, as 2^(n + 64)
 * times 2^-64, the last product rounding a subnormal result once.  The same
 * error as sf_exp over this range; NaN propagates (the clamp keeps it).  x
 * is clamped at -753.45, where n = -1087 and 2^(n + 64) has the bits of +0
 * (a normal number for every n above), so that x below it, -inf (a masked
 * class) included, gives 0 without an underflow: a product that underflows
 * costs a microcode assist on x86 processors, which made each masked class
 * cost ten times an ordinary one.  Only x in (-753.45, -746), whose exp
 * rounds to 0 too, still underflows on the way.
 */
SF_INLINE double sf_exp_nonpos(double x)
{
    double xc = x < -753.45 ? -753.45 : x;
    double t;
    double r = sf_exp_reduce(xc, &t);
    uint64_t t_bits;
    memcpy(&t_bits, &t, sizeof t);
    double p = sf_exp_poly(r);
    /* t's low bits hold n (shifter's low 12 bits are zero), so t_bits << 52
     * is n << 52 modulo 2^64 */
    uint64_t s_bits = (t_bits << 52) + ((uint64_t)(1023 + 64) << 52);
    double s;
    memcpy(&s, &s_bits, sizeof s);
    return p * s * 0x1p-64;
}

/* exp(xc) = p(r) 2^n for xc in [-104, 87]: xc = n ln2 + r with |r| <=
 * ln2/2 (ln2 split so that n * ln2_hi is exact for |n| <= 255), p(r) the
 * Taylor polynomial of exp of degree 7; returns p(r), and in t_bits the
 * bits of t, whose low bits hold n (the shifter's low bits are zero). */
SF_INLINE float sf_expf_poly(float xc, uint32_t *t_bits)
{
    const float shifter = 0x1.8p23f;
    float t = __builtin_fmaf(xc, 0x1.715476p0f, shifter);
    float n = t - shifter;
    float r = __builtin_fmaf(-n, 0x1.62e4p-1f, xc);
    r = __builtin_fmaf(-n, 0x1.7f7d1cp-20f, r);
    float p = 1.0f / 5040.0f;
    p = __builtin_fmaf(p, r, 1.0f / 720.0f);
    p = __builtin_fmaf(p, r, 1.0f / 120.0f);
    p = __builtin_fmaf(p, r, 1.0f / 24.0f);
    p = __builtin_fmaf(p, r, 1.0f / 6.0f);
    p = __builtin_fmaf(p, r, 0.5f);
    p = __builtin_fmaf(p, r, 1.0f);
    p = __builtin_fmaf(p, r, 1.0f);
    memcpy(t_bits, &t, sizeof t);
    return p;
}

/* sf_expf_nonpos's arithmetic for x in [-87, 87], which sf_expf shares. */
SF_INLINE float sf_expf_core(float xc)
{
    uint32_t t_bits;
    float p = sf_expf_poly(xc, &t_bits);
    /* 2^n, n in [-126, 126], is (n + 127) << 23 */
    uint32_t s_bits = (t_bits << 23) + (127u << 23);
    float s;
    memcpy(&s, &s_bits, sizeof s);
    return p * s;
}

/*
 * exp(x) in float for x in [-inf, 0] or NaN: the exponentials of a float32
 * row's logits less its maximum, sixteen to a 512-bit vector instead of
 * eight.  exp(r) by sf_expf_poly's Taylor polynomial (truncation < 6e-9
 * relative; a fitted one of degree 6, as sf_exp_poly's, measured no
 * faster), 2^n from its exponent bits.  Within one ulp of
 * float of the exact exp (tested against exp in double).  Below -87, where
 * exp(x) leaves float's normal range, the result is 0: no subnormal float is
 * ever formed, which would cost a microcode assist on many CPUs.  NaN
 * propagates.
 */
SF_INLINE float sf_expf_nonpos(float x)
{
    float xc = x < -87.0f ? -87.0f : x;
    return x < -87.0f ? 0.0f : sf_expf_core(xc);
}

/*
 * sf_expf_nonpos with subnormal results kept: exp(x) for x in (-104, -87)
 * is the subnormal float it rounds to (2^(n + 64) formed, then one rounding
 * by the product with 2^-64, as sf_exp_nonpos does), below -104 it is 0.
 * For the Bernoulli's exp(-|t|), whose log-probabilities at |t| in (87,
 * 104) are that subnormal; a vector holding such a lane costs a microcode
 * assist, one holding none costs the same as sf_expf_nonpos.
 */
SF_INLINE float sf_expf_nonpos_sub(float x)
{
    uint32_t t_bits;
    float p = sf_expf_poly(x < -104.0f ? -104.0f : x, &t_bits);
    /* 2^(n + 64), n in [-150, 0], a normal float; 0 below the range, so
     * that the product does not underflow there */
    uint32_t s_bits = x < -104.0f ? 0u : (t_bits << 23) + ((127u + 64u) << 23);
    float s;
    memcpy(&s, &s_bits, sizeof s);
    return x != x ? x : p * s * 0x1p-64f;
}

/*
 * exp(x) in float for x in [-87, 87], where both exp(x) and exp(-x) are
 * normal floats: a float32 log scale's scale and its inverse, sixteen to a
 * vector.  sf_expf_nonpos's arithmetic on either side of 0, within one ulp
 * of float; x outside the range is clamped to it, and NaN propagates.
 */
SF_INLINE float sf_expf(float x)
{
    float xc = x < -87.0f ? -87.0f : x > 87.0f ? 87.0f : x;
    return x != x ? x : sf_expf_core(xc);
}

/*
 * (double)i for |i| < 2^51, exactly: i added to the bits of 1.5 * 2^52 (whose
 * unit in the last place is 1), less 1.5 * 2^52.  AVX2 has no vector
 * conversion from 64-bit integers, so a loop with a cast of one would be
 * left scalar there; these integer and float operations have vector forms.
 */
SF_INLINE double sf_small_int_to_double(int64_t i)
{
    const double shifter = 0x1.8p52;
    uint64_t bits;
    memcpy(&bits, &shifter, sizeof bits);
    bits += (uint64_t)i;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d - shifter;
}

/*
 * Vectorisable log for positive finite x, subnormals included (0, inf and
 * NaN are the caller's to exclude): x = 2^e m with m in [sqrt(1/2), sqrt(2)), and
 * log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its odd series
 * to s^19 (truncation < 1e-17 relative).  Within about 1 ulp of libm.
 */
SF_INLINE double sf_log(double x)
{
    const double ln2_hi = 0x1.62e42fee00000p-1, ln2_lo = 0x1.a39ef35793c76p-33;
    /* a subnormal x is scaled by 2^54 into the normal range first */
    int sub = x < 0x1p-1022;
    x = sub ? x * 0x1p54 : x;
    int64_t bits;
    memcpy(&bits, &x, sizeof x);
    /* shift the exponent so that the mantissa lands in [sqrt(1/2), sqrt(2)) */
    int64_t t = bits - 0x3fe6a09e667f3bcdLL;        /* bits of sqrt(1/2) */
    int64_t e = t >> 52;
    int64_t mbits = bits - (int64_t)((uint64_t)e << 52);   /* e < 0 for x < 1: no signed shift */
    double m;
    memcpy(&m, &mbits, sizeof m);
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double p = 2.0 / 19.0;
    p = __builtin_fma(p, z, 2.0 / 17.0);
    p = __builtin_fma(p, z, 2.0 / 15.0);
    p = __builtin_fma(p, z, 2.0 / 13.0);
    p = __builtin_fma(p, z, 2.0 / 11.0);
    p = __builtin_fma(p, z, 2.0 / 9.0);
    p = __builtin_fma(p, z, 2.0 / 7.0);
    p = __builtin_fma(p, z, 2.0 / 5.0);
    p = __builtin_fma(p, z, 2.0 / 3.0);
    /* log m = 2s + s R with R = z p; as 2s = f - s f, log m = f - (h - s (h + R))
     * with h = f^2 / 2, a form in which f (exact) carries the leading term */
    double h = 0.5 * f * f;
    double log_m = f - (h - s * (h + z * p));
    double en = sf_small_int_to_double(e) - (sub ? 54.0 : 0.0);
    return __builtin_fma(en, ln2_hi, __builtin_fma(en, ln2_lo, log_m));
}

/*
 * log in float for positive finite x, subnormals included: sf_log's
 * reduction and atanh series in float arithmetic, sixteen lanes to a 512-bit
 * vector (the series to s^9, |s| < 0.172: truncation < 1e-9 relative).
 * Within one ulp of float of the exact log (tested against log in double).
 * 0, inf and NaN are the caller's to exclude.
 */
SF_INLINE float sf_logf(float x)
{
    const float ln2_hi = 0x1.62e4p-1f, ln2_lo = 0x1.7f7d1cp-20f;
    /* a subnormal x is scaled by 2^23 into the normal range first */
    int sub = x < 0x1p-126f;
    x = sub ? x * 0x1p23f : x;
    int32_t bits;
    memcpy(&bits, &x, sizeof x);
    int32_t t = bits - 0x3f3504f3;                  /* bits of sqrt(1/2) */
    int32_t e = t >> 23;
    int32_t mbits = bits - (int32_t)((uint32_t)e << 23);
    float m;
    memcpy(&m, &mbits, sizeof m);
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float p = 2.0f / 9.0f;
    p = __builtin_fmaf(p, z, 2.0f / 7.0f);
    p = __builtin_fmaf(p, z, 2.0f / 5.0f);
    p = __builtin_fmaf(p, z, 2.0f / 3.0f);
    float h = 0.5f * f * f;
    float log_m = f - (h - s * (h + z * p));
    float en = (float)e - (sub ? 23.0f : 0.0f);
    return __builtin_fmaf(en, ln2_hi, __builtin_fmaf(en, ln2_lo, log_m));
}

/* log1p(e) for e = exp(-|t|) in (0, 1], from u = 1 + e and inv_u = 1 / u:
 * log(u), corrected for the rounding of u. */
SF_INLINE double sf_log1p_small(double e, double u, double inv_u)
{
    return sf_log(u) - ((u - 1.0) - e) * inv_u;
}

/* sigmoid(t) from e = exp(-|t|) and inv_u = 1 / (1 + e): inv_u itself for
 * t >= 0, e inv_u below.  The sampler of a Bernoulli computes both sigmoid
 * and softplus from the one reciprocal (a division costs several times a
 * multiplication in vector code), so every kernel forms the two this way,
 * and a probability is the same bits wherever it is computed. */
SF_INLINE double sf_sigmoid_from(double t, double e, double inv_u)
{
    return t >= 0.0 ? inv_u : e * inv_u;
}

/* log(1 + exp(t)) without overflow or loss of precision. */
SF_INLINE double sf_softplus(double t)
{
    double e = sf_exp_nonpos(-fabs(t));
    double u = 1.0 + e;
    return (t > 0.0 ? t : 0.0) + sf_log1p_small(e, u, 1.0 / u);
}

/* 1 / (1 + exp(-t)), written so that exp never overflows. */
SF_INLINE double sf_sigmoid(double t)
{
    double e = sf_exp_nonpos(-fabs(t));
    return sf_sigmoid_from(t, e, 1.0 / (1.0 + e));
}

/*
 * The same three in float, for float32 logits: sixteen lanes to a vector
 * and no conversions, about twice the throughput.  exp(-|t|) by
 * sf_expf_nonpos_sub, so that a probability or log-probability below the
 * smallest normal float is the subnormal it rounds to, not 0.
 */
SF_INLINE float sf_log1p_smallf(float e, float u, float inv_u)
{
    return sf_logf(u) - ((u - 1.0f) - e) * inv_u;
}

SF_INLINE float sf_sigmoid_fromf(float t, float e, float inv_u)
{
    return t >= 0.0f ? inv_u : e * inv_u;
}

SF_INLINE float sf_softplusf(float t)
{
    float e = sf_expf_nonpos_sub(-fabsf(t));
    float u = 1.0f + e;
    return (t > 0.0f ? t : 0.0f) + sf_log1p_smallf(e, u, 1.0f / u);
}

SF_INLINE float sf_sigmoidf(float t)
{
    float e = sf_expf_nonpos_sub(-fabsf(t));
    return sf_sigmoid_fromf(t, e, 1.0f / (1.0f + e));
}

/* y[j] = sf_exp(x[j]), sf_exp_nonpos(x[j]), sf_expf(x[j]), sf_expf_nonpos(x[j]),
 * sf_expf_nonpos_sub(x[j]), sf_log(x[j]), sf_logf(x[j]) (sf_math.c, for
 * tests). */
void sf_exp_array(ptrdiff_t n, const double *x, double *y);
void sf_exp_nonpos_array(ptrdiff_t n, const double *x, double *y);
void sf_expf_array(ptrdiff_t n, const float *x, float *y);
void sf_expf_nonpos_array(ptrdiff_t n, const float *x, float *y);
void sf_expf_nonpos_sub_array(ptrdiff_t n, const float *x, float *y);
void sf_log_array(ptrdiff_t n, const double *x, double *y);
void sf_logf_array(ptrdiff_t n, const float *x, float *y);
/* y[j] = standard normal draw offset + j of the stream keyed by key
 * (sf_random.h), and of its float32 form, for tests. */
void sf_normal_fill(ptrdiff_t n, uint64_t key, uint64_t offset, double *y);
void sf_normal_fill_f(ptrdiff_t n, uint64_t key, uint64_t offset, float *y);
/* z[j] = Phi^-1(p[j]) (sf_random.h), for tests. */
void sf_normal_quantile_array(ptrdiff_t n, const double *p, double *z);

#define SF_LOG_SQRT_2PI 0.91893853320467274178032973640561764

#endif
