/*
 * Bernoulli distribution over logits, elementwise.
 *
 * Parameters: N logits viewed as M rows of D (logits + m*D + d).  Values
 * are (S, M, D) with entries 0 or 1 in the logits' type; weights are (S, M)
 * and apply to every d of row m (a reward per sample that the D coordinates
 * share) or, with D = 1, one weight per element.
 *
 * p = sigmoid(l); log p(1) = -softplus(-l), log p(0) = -softplus(l), with
 * softplus(t) = max(t, 0) + log1p(exp(-|t|)), finite for every finite l.
 */
#ifndef SF_BERNOULLI_H
#define SF_BERNOULLI_H

#include <stdint.h>

#include "sf_common.h"

#define SF_BERN_DECLARE(T, SUF)                                                 \
int sf_bern_check_##SUF(sf_index N, const T *logits, sf_index *bad);             \
int sf_bern_probs_##SUF(sf_index N, const T *logits, T *probs, int n_threads);   \
int sf_bern_entropy_##SUF(sf_index N, const T *logits, T *entropy, int n_threads); \
int sf_bern_log_prob_##SUF(sf_index S, sf_index N, const T *logits,             \
                           const T *value, T *log_prob, int n_threads);         \
int sf_bern_score_##SUF(sf_index S, sf_index N, const T *logits,                \
                        const T *value, T *score, int n_threads);               \
int sf_bern_weighted_score_##SUF(sf_index S, sf_index M, sf_index D,            \
                                 const T *logits, const T *value,               \
                                 const T *weights, T *grad, int n_threads);     \
/* grad[m, d] += sum_s a[s, m] (value[s, m, d] - sigmoid(logits[m, d])), a  */ \
/* the advantages of rewards (S, M) under the baseline kind (advantages.h),   */ \
/* times scale.  Values are checked before grad is touched.                   */ \
int sf_bern_reinforce_##SUF(sf_index S, sf_index M, sf_index D, const T *logits, \
                            const T *value, const T *rewards, int kind,         \
                            double c, double eps, double ddof, double scale,    \
                            T *grad, int n_threads);                            \
/* sf_bern_reinforce into a new array of the caller's, dropped on an error: */ \
/* grad is written, not added to (its contents are never read), and the     */ \
/* values are checked as they are summed, in one pass, so a bad one is      */ \
/* reported (SF_ERR_VALUE) after grad has been written with it.              */ \
int sf_bern_reinforce_fresh_##SUF(sf_index S, sf_index M, sf_index D,           \
                                  const T *logits, const T *value,              \
                                  const T *rewards, int kind, double c,         \
                                  double eps, double ddof, double scale,        \
                                  T *grad, int n_threads);                      \
/* value[s, j] = 1 if u[s, j] < sigmoid(logits[j]) else 0, with u the given  */ \
/* uniforms, or with uniform NULL draw s * N + j of the counter stream keyed  */ \
/* by key (sf_random.h); with log_prob not NULL, also their log-probs.        */ \
int sf_bern_sample_##SUF(sf_index S, sf_index N, const T *logits,               \
                         const double *uniform, uint64_t key, T *value,         \
                         T *log_prob, int n_threads);                           \
/* SF_ERR_VALUE if some value[j], j < n, is neither 0 nor 1. */                 \
int sf_bern_check_value_##SUF(sf_index n, const T *value);

SF_BERN_DECLARE(double, d)
SF_BERN_DECLARE(float, f)

#undef SF_BERN_DECLARE

/* The output size from which the Bernoulli kernels stream their outputs
 * (sf_stream.h), set for tests; returns the previous one. */
size_t sf_bern_set_stream_min(size_t bytes);

#endif
