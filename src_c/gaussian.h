/*
 * Gaussian kernels for Normal (scalar event) and DiagNormal (event = the
 * last axis), parameterised by loc and scale, with scores taken with respect
 * to loc and log(scale).
 *
 * Parameters: loc and scale of N = M * D elements, viewed as M rows of D.
 * Values (and grad_f) are (S, M, D); weights are (S, M), one per sample and
 * row, shared by the row's D coordinates.  For Normal, D = 1 gives one weight
 * per element; for DiagNormal, D is the event size.
 *
 * With z = (x - loc) / scale:
 *   log p(x)               = sum_d -z^2 / 2 - log(scale) - log(2 pi) / 2
 *   d log p / d loc        = z / scale
 *   d log p / d log(scale) = z^2 - 1
 *
 * The *_log_scale kernels take log(scale) in place of scale, for parameters
 * held as log scales: no exp pass over them before the call, and log p uses
 * log(scale) as given.  A log scale must lie in [-708, 708] for double and
 * [-87, 87] for float (the scale and its inverse normal numbers of the
 * type); the draws are those of the scale exp(log_scale) in the type (for
 * float, by a float exp within one ulp).
 */
#ifndef SF_GAUSSIAN_H
#define SF_GAUSSIAN_H

#include <stdint.h>

#include "sf_common.h"

#define SF_GAUSS_DECLARE(T, SUF)                                                \
/* SF_ERR_NAN / SF_ERR_INF for loc, SF_ERR_SCALE for scale (*which = 0 for    */ \
/* loc, 1 for scale), *bad the first offending element.                       */ \
int sf_gauss_check_##SUF(sf_index N, const T *loc, const T *scale,              \
                         sf_index *bad, int *which);                            \
/* As sf_gauss_check, SF_ERR_SCALE for a log scale out of its range.          */ \
int sf_gauss_check_log_scale_##SUF(sf_index N, const T *loc, const T *log_scale, \
                                   sf_index *bad, int *which);                  \
/* x[s, j] = loc[j] + scale[j] * x[s, j]: turns standard normals into draws. */ \
int sf_gauss_affine_##SUF(sf_index S, sf_index N, const T *loc, const T *scale, \
                          T *x, int n_threads);                                 \
/* x[s, m, d] = loc + scale * z with z the standard normal draw              */ \
/* (s * M + m) * D + d of the counter stream keyed by key (sf_random.h); with  */ \
/* antithetic, rows s >= S/2 use -z of row s - S/2 (S even).  With log_prob   */ \
/* not NULL, also log_prob[s, m] = sum_d log N(x; loc, scale), from z.         */ \
/* The parameters are checked as they are read: an invalid one (as for       */ \
/* sf_gauss_check) gives its status, SF_ERR_NAN, SF_ERR_INF or SF_ERR_SCALE,  */ \
/* the outputs written all the same; sf_gauss_check names the first.         */ \
int sf_gauss_sample_##SUF(sf_index S, sf_index M, sf_index D, const T *loc,      \
                          const T *scale, uint64_t key, int antithetic, T *x,   \
                          T *log_prob, int n_threads);                          \
int sf_gauss_sample_log_scale_##SUF(sf_index S, sf_index M, sf_index D,         \
                                    const T *loc, const T *log_scale,           \
                                    uint64_t key, int antithetic, T *x,         \
                                    T *log_prob, int n_threads);                \
int sf_gauss_log_prob_##SUF(sf_index S, sf_index M, sf_index D, const T *loc,   \
                            const T *scale, const T *x, T *log_prob,            \
                            int n_threads);                                     \
int sf_gauss_entropy_##SUF(sf_index M, sf_index D, const T *scale, T *entropy); \
int sf_gauss_score_##SUF(sf_index S, sf_index N, const T *loc, const T *scale,  \
                         const T *x, T *score_loc, T *score_log_scale,          \
                         int n_threads);                                        \
/* g_loc[m, d] += sum_s w[s, m] z / scale; g_log_scale += sum_s w (z^2 - 1). */ \
int sf_gauss_weighted_score_##SUF(sf_index S, sf_index M, sf_index D,           \
                                  const T *loc, const T *scale, const T *x,     \
                                  const T *weights, T *g_loc, T *g_log_scale,   \
                                  int n_threads);                               \
/* As weighted_score with weights the advantages of rewards (S, M) under the */ \
/* baseline kind (advantages.h), times factor.                                */ \
int sf_gauss_reinforce_##SUF(sf_index S, sf_index M, sf_index D, const T *loc,   \
                             const T *scale, const T *x, const T *rewards,      \
                             int kind, double c, double eps, double ddof,       \
                             double factor, T *g_loc, T *g_log_scale,           \
                             int n_threads);                                    \
/* sf_gauss_reinforce into new arrays of the caller's: g_loc and            */ \
/* g_log_scale are written, not added to (their contents are never read).    */ \
int sf_gauss_reinforce_fresh_##SUF(sf_index S, sf_index M, sf_index D,          \
                                   const T *loc, const T *scale, const T *x,     \
                                   const T *rewards, int kind, double c,         \
                                   double eps, double ddof, double factor,       \
                                   T *g_loc, T *g_log_scale, int n_threads);     \
/* The two reinforce kernels with log(scale) in place of scale.               */ \
int sf_gauss_reinforce_log_scale_##SUF(sf_index S, sf_index M, sf_index D,      \
                                       const T *loc, const T *log_scale,        \
                                       const T *x, const T *rewards, int kind,  \
                                       double c, double eps, double ddof,       \
                                       double factor, T *g_loc, T *g_log_scale, \
                                       int n_threads);                          \
int sf_gauss_reinforce_fresh_log_scale_##SUF(sf_index S, sf_index M, sf_index D, \
                                             const T *loc, const T *log_scale,  \
                                             const T *x, const T *rewards,      \
                                             int kind, double c, double eps,    \
                                             double ddof, double factor,        \
                                             T *g_loc, T *g_log_scale,          \
                                             int n_threads);                    \
/* g_loc += sum_s grad_f; g_log_scale += sum_s grad_f * (x - loc). */           \
int sf_gauss_pathwise_##SUF(sf_index S, sf_index M, sf_index D, const T *loc,   \
                            const T *x, const T *grad_f, T *g_loc,              \
                            T *g_log_scale, int n_threads);

SF_GAUSS_DECLARE(double, d)
SF_GAUSS_DECLARE(float, f)

#undef SF_GAUSS_DECLARE

/* For tests (not part of the C API): the indices j < n with mark[j] = 1
 * (marks 0 or 1), in increasing order, into idx (room for n + 16), and
 * their count, as the sampler lists its tail draws: the AVX-512 way where
 * the CPU has it, or with portable the way of any CPU (which zeroes mark[n]
 * up to the next multiple of 64, so mark must have room for it). */
sf_index sf_marked_indices(sf_index n, unsigned char *mark, sf_index *idx, int portable);

/* The output size from which the Gaussian kernels stream their outputs
 * (sf_stream.h), set for tests; returns the previous one. */
size_t sf_gauss_set_stream_min(size_t bytes);

#endif
