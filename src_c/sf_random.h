/*
 * Counter-based random numbers for the kernels: draw j of a stream is a
 * function of (key, j) alone, so any block of draws can be produced by any
 * thread, in any order, with results that do not depend on the thread count.
 * The key comes from the user's numpy Generator (one 64-bit draw per call).
 */
#ifndef SF_RANDOM_H
#define SF_RANDOM_H

#include <stdint.h>
#include <string.h>

#include "sf_math.h"

/* Draw j of the stream keyed by key: SplitMix64's output function applied
 * to its state key + (j + 1) * gamma, i.e. the (j + 1)-th output of a
 * SplitMix64 generator seeded with key (a generator that passes BigCrush).
 * A loop over consecutive draws steps the state by gamma (SF_SIMD_LINEAR),
 * which spares the vectorised loop a 64-bit multiply per draw. */
#define SF_COUNTER_GAMMA 0x9e3779b97f4a7c15ULL

SF_INLINE uint64_t sf_counter_state(uint64_t key, uint64_t j)
{
    return key + (j + 1) * SF_COUNTER_GAMMA;
}

SF_INLINE uint64_t sf_splitmix_output(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

SF_INLINE uint64_t sf_counter_u64(uint64_t key, uint64_t j)
{
    return sf_splitmix_output(sf_counter_state(key, j));
}

/* A uniform on the open interval (0, 1) from the top 52 bits of x, on the
 * grid (k + 1/2) 2^-52, symmetric about 1/2 (so 1 - u is exact). */
SF_INLINE double sf_uniform_open(uint64_t x)
{
    uint64_t bits = (x >> 12) | 0x3ff0000000000000ULL;   /* 1.m in [1, 2) */
    double d;
    memcpy(&d, &bits, sizeof d);
    return (d - 1.0) + 0x1.0p-53;
}

/* Rational function num(r) / den(r) with eight coefficients each (den's
 * leading term 1), by Horner's rule. */
SF_INLINE double sf_ratio8(double r, const double *a, const double *b)
{
    double num = a[7], den = b[7];
    for (int i = 6; i >= 0; i--) {
        num = __builtin_fma(num, r, a[i]);
        den = __builtin_fma(den, r, b[i]);
    }
    return num / den;
}

/* Wichura's coefficients (AS 241, PPND16): a/b for the central piece, c/d
 * and e/f for the tails. */
static const double sf_as241_a[8] = {3.3871328727963666080e0, 1.3314166789178437745e2,
    1.9715909503065514427e3, 1.3731693765509461125e4, 4.5921953931549871457e4,
    6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3};
static const double sf_as241_b[8] = {1.0, 4.2313330701600911252e1, 6.8718700749205790830e2,
    5.3941960214247511077e3, 2.1213794301586595867e4, 3.9307895800092710610e4,
    2.8729085735721942674e4, 5.2264952788528545610e3};
static const double sf_as241_c[8] = {1.42343711074968357734e0, 4.63033784615654529590e0,
    5.76949722146069140550e0, 3.64784832476320460504e0, 1.27045825245236838258e0,
    2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4};
static const double sf_as241_d[8] = {1.0, 2.05319162663775882187e0, 1.67638483018380384940e0,
    6.89767334985100004550e-1, 1.48103976427480074590e-1, 1.51986665636164571966e-2,
    5.47593808499534494600e-4, 1.05075007164441684324e-9};
static const double sf_as241_e[8] = {6.65790464350110377720e0, 5.46378491116411436990e0,
    1.78482653991729133580e0, 2.96560571828504891230e-1, 2.65321895265761230930e-2,
    1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7};
static const double sf_as241_f[8] = {1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1,
    1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5,
    1.42151175831644588870e-7, 2.04426310338993978564e-15};

/*
 * The standard normal quantile Phi^-1(p), 0 < p < 1, by Wichura's algorithm
 * AS 241 (PPND16, Applied Statistics 37, 1988), accurate to about 1e-16: a
 * rational function of degree 7/7 in r = 0.180625 - (p - 1/2)^2 for
 * |p - 1/2| <= 0.425 (times p - 1/2), and in the tails of s = sqrt(-log(min(p,
 * 1 - p))), as s - 1.6 for s <= 5 and s - 5 beyond.  Branch free: the
 * pieces are evaluated and one is selected, so loops over it vectorise
 * (selecting coefficients per lane instead defeats the vectoriser).  The
 * pieces exist on their own too, for loops that evaluate the tail only
 * where it is needed (row_sample in gaussian_impl.h).
 */
SF_INLINE double sf_normal_quantile_central(double q)
{
    return q * sf_ratio8(0.180625 - q * q, sf_as241_a, sf_as241_b);
}

SF_INLINE double sf_normal_quantile_tail(double p)
{
    double q = p - 0.5;
    double s = sqrt(-sf_log(q < 0.0 ? p : 1.0 - p));
    double tail = s <= 5.0 ? sf_ratio8(s - 1.6, sf_as241_c, sf_as241_d)
                           : sf_ratio8(s - 5.0, sf_as241_e, sf_as241_f);
    return q < 0.0 ? -tail : tail;
}

/* Whether p - 1/2 = q falls in the central piece. */
SF_INLINE int sf_normal_is_central(double q) { return fabs(q) <= 0.425; }

SF_INLINE double sf_normal_quantile(double p)
{
    double q = p - 0.5;
    double central = sf_normal_quantile_central(q);
    double tail = sf_normal_quantile_tail(p);
    return sf_normal_is_central(q) ? central : tail;
}

/* Standard normal draw j of the stream keyed by key, and its uniform. */
SF_INLINE double sf_counter_uniform(uint64_t key, uint64_t j)
{
    return sf_uniform_open(sf_counter_u64(key, j));
}

SF_INLINE double sf_counter_normal(uint64_t key, uint64_t j)
{
    return sf_normal_quantile(sf_counter_uniform(key, j));
}

/*
 * The float32 form of the stream, for float32 parameters.  Each 64-bit
 * output gives two draws: draw j is the low 32 bits of output j / 2
 * (sf_counter_u64) for even j, its high 32 bits for odd j (SplitMix64's
 * output function mixes every bit; a vector of eight outputs is sixteen
 * draws, half the multiplies a draw).  A draw's 32 bits are taken as the
 * signed offset s from the middle of [0, 2^32), s = bits - 2^31, whose
 * uniform is (bits + 1/2) 2^-32;
 * the quantile is Wichura's single-precision AS 241 (PPND7: rational
 * functions of degree 3/3 in the centre and 3/2 in the tail, accurate to
 * about 1e-7), all in float arithmetic, the tail's log by sf_logf: within
 * about 4e-7 relative (6 float32 ulp) of the exact quantile of its uniform.
 * The smallest tail probability, 2^-33, has sqrt(-log p) < 5, so PPND7's
 * far-tail piece is never needed.  Sixteen
 * float lanes against eight double ones, half the terms and half the
 * outputs: the sampler draws it nearly twice as fast as the float64 stream
 * (G1 medium: 0.56x the time), whose float32 rounding it is not.  (Until
 * this version, draw j was the high half of output j.)
 */
/* The offset is an int32_t, not an int64_t, for its conversions to float:
 * AVX2 converts 32-bit integers to floats in vectors but not 64-bit ones, so
 * a loop converting int64_t would not be vectorised on AVX2 machines. */
SF_INLINE int32_t sf_offset32(uint32_t bits)
{
    return (int32_t)((int64_t)bits - 2147483648LL);
}

/* An output with its two halves in draw order in memory: on a big-endian
 * machine its halves swapped, so that as an array of uint32_t, outputs
 * [i0, i1) are draws [2 i0, 2 i1) on any machine. */
SF_INLINE uint64_t sf_halves_in_order(uint64_t out)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (out << 32) | (out >> 32);
#else
    return out;
#endif
}

SF_INLINE int32_t sf_counter_offset32(uint64_t key, uint64_t j)
{
    return sf_offset32((uint32_t)(sf_counter_u64(key, j >> 1) >> (32 * (j & 1))));
}

/* q = u - 1/2 of an offset s, in float. */
SF_INLINE float sf_offset32_q(int32_t s) { return ((float)s + 0.5f) * 0x1p-32f; }

SF_INLINE int sf_normal_is_central_f(float q) { return fabsf(q) <= 0.425f; }

SF_INLINE float sf_normal_quantile_central_f(float q)
{
    float r = 0.180625f - q * q;
    float num = ((59.109374720f * r + 159.29113202f) * r + 50.434271938f) * r + 3.3871327179f;
    float den = ((67.187563600f * r + 78.757757664f) * r + 17.895169469f) * r + 1.0f;
    return q * num / den;
}

SF_INLINE float sf_normal_quantile_tail_f(int32_t s)
{
    /* p = the uniform's distance to the nearer end of (0, 1), (k + 1/2)
     * 2^-32 with k in [0, 2^31), rounded once to float; its log (sf_logf)
     * and square root in float too */
    int32_t k = s < 0 ? s - INT32_MIN : INT32_MAX - s;
    float p = ((float)k + 0.5f) * 0x1p-32f;
    float r = sqrtf(-sf_logf(p)) - 1.6f;
    float num = ((0.17023821103f * r + 1.3067284816f) * r + 2.7568153900f) * r + 1.4234372777f;
    float den = (0.12021132975f * r + 0.73700164250f) * r + 1.0f;
    float z = num / den;
    return s < 0 ? -z : z;
}

/* Standard normal draw j of the float32 stream keyed by key. */
SF_INLINE float sf_counter_normal_f(uint64_t key, uint64_t j)
{
    int32_t s = sf_counter_offset32(key, j);
    float q = sf_offset32_q(s);
    float central = sf_normal_quantile_central_f(q);
    float tail = sf_normal_quantile_tail_f(s);
    return sf_normal_is_central_f(q) ? central : tail;
}

#endif
