/*
 * Categorical distribution over logits: kernels over a batch of B rows of K
 * logits (C-contiguous, row i at logits + i*K) and S samples per row (value
 * and weights are (S, B), C-contiguous, sample s of row i at s*B + i).
 *
 * Every kernel works from the rows' normalisers norm (B, 2): norm[i] =
 * (m_i, c_i) with m_i = max_k logits[i, k] (sf_cat_prepare, a validating
 * pass without exp) and c_i = log sum_k exp(logits[i, k] - m_i) (computed
 * once, by sf_cat_log_normalizer or inside the sampling pass), so that
 * log p_ik = (logits[i, k] - m_i) - c_i (exact even where m_i + c_i would
 * round c_i away) and probabilities are never materialised as an array.
 *
 * Each kernel exists for double (suffix _d) and float (suffix _f) logits;
 * sums are always accumulated in double.  n_threads <= 0 means one thread.
 * Results never depend on n_threads: rows are independent and every sum
 * runs in a fixed order within one row.
 */
#ifndef SF_CATEGORICAL_H
#define SF_CATEGORICAL_H

#include "sf_common.h"

#define SF_CAT_DECLARE(T, SUF)                                                  \
/* norm[i, 0] = max of row i, norm[i, 1] = NaN (not yet computed); with copy */ \
/* not NULL, logits are also copied there in the same pass.  Status:          */ \
/* SF_ERR_NAN, SF_ERR_POSINF or SF_ERR_ALL_MASKED, *bad_row the first          */ \
/* offending row, whose norm[i, 0] is NaN.                                    */ \
int sf_cat_prepare_##SUF(sf_index B, sf_index K, const T *logits, T *copy,      \
                         double *norm, sf_index *bad_row, int n_threads);       \
/* norm[i, 1] = log sum exp(logits[i] - norm[i, 0]) for every valid row.      */ \
int sf_cat_log_normalizer_##SUF(sf_index B, sf_index K, const T *logits,        \
                                double *norm, int n_threads);                   \
/* entropy[i] = -sum_k p_ik log p_ik (classes with p = 0 contribute 0). */      \
int sf_cat_entropy_##SUF(sf_index B, sf_index K, const T *logits,               \
                         const double *norm, T *entropy, int n_threads);         \
/* probs[i, k] = exp(log p_ik). */                                                \
int sf_cat_probs_##SUF(sf_index B, sf_index K, const T *logits,                 \
                       const double *norm, T *probs, int n_threads);             \
/* log_prob[s, i] = log p_{i, value[s, i]}. */                                  \
int sf_cat_log_prob_##SUF(sf_index S, sf_index B, sf_index K, const T *logits,  \
                          const double *norm, const int64_t *value, T *log_prob, \
                          int n_threads);                                       \
/* score[s, i, k] = [value[s, i] == k] - p_ik. */                               \
int sf_cat_score_##SUF(sf_index S, sf_index B, sf_index K, const T *logits,     \
                       const double *norm, const int64_t *value, T *score,       \
                       int n_threads);                                          \
/* grad[i, k] += sum_s weights[s, i] * ([value[s, i] == k] - p_ik). */          \
int sf_cat_weighted_score_##SUF(sf_index S, sf_index B, sf_index K,             \
                                const T *logits, const double *norm,             \
                                const int64_t *value, const T *weights,         \
                                T *grad, int n_threads);                        \
/* grad[i, k] += sum_s a[s, i] * ([value[s, i] == k] - p_ik), with a the    */ \
/* advantages of rewards (S, B) under the baseline kind (advantages.h),       */ \
/* times scale.  Values are checked before grad is touched.                   */ \
int sf_cat_reinforce_##SUF(sf_index S, sf_index B, sf_index K, const T *logits, \
                           const double *norm, const int64_t *value,            \
                           const T *rewards, int kind, double c, double eps,    \
                           double ddof, double scale, T *grad, int n_threads);  \
/* sf_cat_reinforce into a new array of the caller's: grad is written, not   */ \
/* added to (its contents are never read; each row is zeroed as it is        */ \
/* reached, then added to as by sf_cat_reinforce, the same bits).  Values   */ \
/* are checked before grad is touched.                                       */ \
int sf_cat_reinforce_fresh_##SUF(sf_index S, sf_index B, sf_index K,            \
                                 const T *logits, const double *norm,           \
                                 const int64_t *value, const T *rewards,        \
                                 int kind, double c, double eps, double ddof,   \
                                 double scale, T *grad, int n_threads);         \
/* value[s, i] = the class k whose interval of the cumulative distribution   */ \
/* of row i holds uniform[s, i] in [0, 1) (inverse-CDF sampling); with       */ \
/* log_prob not NULL, also log_prob[s, i] = log p_{i, value[s, i]}.           */ \
/* fill_norm says what of norm the sampling pass computes: SF_CAT_NORM_READY */ \
/* none; SF_CAT_NORM_LOGSUM norm[i, 1]; SF_CAT_NORM_ALL norm[i, 0] too, each  */ \
/* row validated as by sf_cat_prepare in the same pass (an invalid row draws  */ \
/* -1, with NaN log-probabilities, and the call returns the status of the     */ \
/* lowest invalid row; the logits are read once from memory, not twice).      */ \
int sf_cat_sample_##SUF(sf_index S, sf_index B, sf_index K, const T *logits,    \
                        double *norm, int fill_norm, const double *uniform,     \
                        int64_t *value, T *log_prob, int n_threads);               \
/* sf_cat_sample, zeroing the B rows of K of zero (a gradient to come) as   */ \
/* it draws from each row, where the stores cost least.                       */ \
int sf_cat_sample_zero_##SUF(sf_index S, sf_index B, sf_index K, const T *logits, \
                             double *norm, int fill_norm, const double *uniform, \
                             int64_t *value, T *log_prob, T *zero, int n_threads);

/* Whether a step's sampler zeroes the next gradient (B rows of K elements
 * of itemsize bytes) as it draws: rows long enough to be drawn alone,
 * whose exponentials leave the store ports idle, and a gradient that the
 * kernel would not stream. */
int sf_cat_zero_in_sampler(sf_index B, sf_index K, size_t itemsize);

/* The fill_norm argument of sf_cat_sample. */
enum { SF_CAT_NORM_READY = 0, SF_CAT_NORM_LOGSUM = 1, SF_CAT_NORM_ALL = 2 };

/* SF_ERR_VALUE if some value[j], j < n, is outside [0, K). */
int sf_cat_check_value(sf_index n, sf_index K, const int64_t *value);

/* For tests (not part of the C API): whether the sampler counts a row's
 * draws by AVX-512 masks where the processor has them (1, the default) or
 * by its portable loop (0); the draws are the same either way.  Not for use
 * while a sampler runs. */
void sf_cat_set_mask_counts(int on);

SF_CAT_DECLARE(double, d)
SF_CAT_DECLARE(float, f)

#undef SF_CAT_DECLARE

/* The output size from which the categorical kernels stream their outputs
 * (sf_stream.h), set for tests; returns the previous one. */
size_t sf_cat_set_stream_min(size_t bytes);

#endif
