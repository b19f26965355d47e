# Declarations of the plain C kernels in src_c/, for Cython code (this
# package's own modules, and other projects that cimport scorefast).
from libc.stdint cimport int64_t, uint64_t

cdef extern from "sf_common.h" nogil:
    ctypedef Py_ssize_t sf_index
    enum:
        SF_OK
        SF_ERR_NOMEM
        SF_ERR_NAN
        SF_ERR_POSINF
        SF_ERR_ALL_MASKED
        SF_ERR_VALUE
        SF_ERR_INF
        SF_ERR_SCALE
    int sf_max_threads()
    int sf_have_openmp()

cdef extern from "sf_math.h" nogil:
    void sf_exp_array(sf_index n, const double *x, double *y)
    void sf_exp_nonpos_array(sf_index n, const double *x, double *y)
    void sf_expf_array(sf_index n, const float *x, float *y)
    void sf_expf_nonpos_array(sf_index n, const float *x, float *y)
    void sf_expf_nonpos_sub_array(sf_index n, const float *x, float *y)
    void sf_log_array(sf_index n, const double *x, double *y)
    void sf_logf_array(sf_index n, const float *x, float *y)
    void sf_normal_fill(sf_index n, uint64_t key, uint64_t offset, double *y)
    void sf_normal_fill_f(sf_index n, uint64_t key, uint64_t offset, float *y)
    void sf_normal_quantile_array(sf_index n, const double *p, double *z)

cdef extern from "advantages.h" nogil:
    enum:
        SF_BASE_NONE
        SF_BASE_CONST
        SF_BASE_MEAN
        SF_BASE_LOO
        SF_BASE_GROUP
    int sf_advantages_d(sf_index S, sf_index M, const double *rewards, int kind,
                        double c, double eps, double ddof, double scale, double *adv)
    int sf_advantages_f(sf_index S, sf_index M, const float *rewards, int kind,
                        double c, double eps, double ddof, double scale, float *adv)
    int sf_check_finite_d(sf_index n, const double *x)
    int sf_check_finite_f(sf_index n, const float *x)

cdef extern from "categorical.h" nogil:
    enum:
        SF_CAT_NORM_READY
        SF_CAT_NORM_LOGSUM
        SF_CAT_NORM_ALL
    int sf_cat_check_value(sf_index n, sf_index K, const int64_t *value)
    int sf_cat_prepare_d(sf_index B, sf_index K, const double *logits, double *copy,
                         double *norm, sf_index *bad_row, int n_threads)
    int sf_cat_log_normalizer_d(sf_index B, sf_index K, const double *logits,
                                double *norm, int n_threads)
    int sf_cat_prepare_f(sf_index B, sf_index K, const float *logits, float *copy,
                         double *norm, sf_index *bad_row, int n_threads)
    int sf_cat_log_normalizer_f(sf_index B, sf_index K, const float *logits,
                                double *norm, int n_threads)
    int sf_cat_entropy_d(sf_index B, sf_index K, const double *logits,
                         const double *norm, double *entropy, int n_threads)
    int sf_cat_entropy_f(sf_index B, sf_index K, const float *logits,
                         const double *norm, float *entropy, int n_threads)
    int sf_cat_probs_d(sf_index B, sf_index K, const double *logits,
                       const double *norm, double *probs, int n_threads)
    int sf_cat_probs_f(sf_index B, sf_index K, const float *logits,
                       const double *norm, float *probs, int n_threads)
    int sf_cat_log_prob_d(sf_index S, sf_index B, sf_index K, const double *logits,
                          const double *norm, const int64_t *value, double *log_prob,
                          int n_threads)
    int sf_cat_log_prob_f(sf_index S, sf_index B, sf_index K, const float *logits,
                          const double *norm, const int64_t *value, float *log_prob,
                          int n_threads)
    int sf_cat_score_d(sf_index S, sf_index B, sf_index K, const double *logits,
                       const double *norm, const int64_t *value, double *score,
                       int n_threads)
    int sf_cat_score_f(sf_index S, sf_index B, sf_index K, const float *logits,
                       const double *norm, const int64_t *value, float *score,
                       int n_threads)
    int sf_cat_weighted_score_d(sf_index S, sf_index B, sf_index K,
                                const double *logits, const double *norm,
                                const int64_t *value, const double *weights,
                                double *grad, int n_threads)
    int sf_cat_weighted_score_f(sf_index S, sf_index B, sf_index K,
                                const float *logits, const double *norm,
                                const int64_t *value, const float *weights,
                                float *grad, int n_threads)
    int sf_cat_reinforce_d(sf_index S, sf_index B, sf_index K, const double *logits,
                           const double *norm, const int64_t *value,
                           const double *rewards, int kind, double c, double eps,
                           double ddof, double scale, double *grad, int n_threads)
    int sf_cat_reinforce_f(sf_index S, sf_index B, sf_index K, const float *logits,
                           const double *norm, const int64_t *value,
                           const float *rewards, int kind, double c, double eps,
                           double ddof, double scale, float *grad, int n_threads)
    int sf_cat_reinforce_fresh_d(sf_index S, sf_index B, sf_index K, const double *logits,
                                 const double *norm, const int64_t *value,
                                 const double *rewards, int kind, double c, double eps,
                                 double ddof, double scale, double *grad, int n_threads)
    int sf_cat_reinforce_fresh_f(sf_index S, sf_index B, sf_index K, const float *logits,
                                 const double *norm, const int64_t *value,
                                 const float *rewards, int kind, double c, double eps,
                                 double ddof, double scale, float *grad, int n_threads)
    int sf_cat_sample_d(sf_index S, sf_index B, sf_index K, const double *logits,
                        double *norm, int fill_norm, const double *uniform,
                        int64_t *value, double *log_prob, int n_threads)
    int sf_cat_sample_f(sf_index S, sf_index B, sf_index K, const float *logits,
                        double *norm, int fill_norm, const double *uniform,
                        int64_t *value, float *log_prob, int n_threads)
    int sf_cat_zero_in_sampler(sf_index B, sf_index K, size_t itemsize)
    int sf_cat_sample_zero_d(sf_index S, sf_index B, sf_index K, const double *logits,
                             double *norm, int fill_norm, const double *uniform,
                             int64_t *value, double *log_prob, double *zero, int n_threads)
    int sf_cat_sample_zero_f(sf_index S, sf_index B, sf_index K, const float *logits,
                             double *norm, int fill_norm, const double *uniform,
                             int64_t *value, float *log_prob, float *zero, int n_threads)


cdef extern from "bernoulli.h" nogil:
    int sf_bern_check_value_d(sf_index n, const double *value)
    int sf_bern_check_value_f(sf_index n, const float *value)
    int sf_bern_check_d(sf_index N, const double *logits, sf_index *bad)
    int sf_bern_check_f(sf_index N, const float *logits, sf_index *bad)
    int sf_bern_probs_d(sf_index N, const double *logits, double *probs, int n_threads)
    int sf_bern_probs_f(sf_index N, const float *logits, float *probs, int n_threads)
    int sf_bern_entropy_d(sf_index N, const double *logits, double *entropy, int n_threads)
    int sf_bern_entropy_f(sf_index N, const float *logits, float *entropy, int n_threads)
    int sf_bern_log_prob_d(sf_index S, sf_index N, const double *logits,
                           const double *value, double *log_prob, int n_threads)
    int sf_bern_log_prob_f(sf_index S, sf_index N, const float *logits,
                           const float *value, float *log_prob, int n_threads)
    int sf_bern_score_d(sf_index S, sf_index N, const double *logits,
                        const double *value, double *score, int n_threads)
    int sf_bern_score_f(sf_index S, sf_index N, const float *logits,
                        const float *value, float *score, int n_threads)
    int sf_bern_weighted_score_d(sf_index S, sf_index M, sf_index D,
                                 const double *logits, const double *value,
                                 const double *weights, double *grad, int n_threads)
    int sf_bern_weighted_score_f(sf_index S, sf_index M, sf_index D,
                                 const float *logits, const float *value,
                                 const float *weights, float *grad, int n_threads)
    int sf_bern_reinforce_d(sf_index S, sf_index M, sf_index D, const double *logits,
                            const double *value, const double *rewards, int kind,
                            double c, double eps, double ddof, double scale,
                            double *grad, int n_threads)
    int sf_bern_reinforce_f(sf_index S, sf_index M, sf_index D, const float *logits,
                            const float *value, const float *rewards, int kind,
                            double c, double eps, double ddof, double scale,
                            float *grad, int n_threads)
    int sf_bern_reinforce_fresh_d(sf_index S, sf_index M, sf_index D, const double *logits,
                                  const double *value, const double *rewards, int kind,
                                  double c, double eps, double ddof, double scale,
                                  double *grad, int n_threads)
    int sf_bern_reinforce_fresh_f(sf_index S, sf_index M, sf_index D, const float *logits,
                                  const float *value, const float *rewards, int kind,
                                  double c, double eps, double ddof, double scale,
                                  float *grad, int n_threads)
    int sf_bern_sample_d(sf_index S, sf_index N, const double *logits,
                         const double *uniform, uint64_t key, double *value,
                         double *log_prob, int n_threads)
    int sf_bern_sample_f(sf_index S, sf_index N, const float *logits,
                         const double *uniform, uint64_t key, float *value,
                         float *log_prob, int n_threads)

cdef extern from "gaussian.h" nogil:
    int sf_gauss_sample_d(sf_index S, sf_index M, sf_index D, const double *loc,
                          const double *scale, uint64_t key, int antithetic, double *x,
                          double *log_prob, int n_threads)
    int sf_gauss_sample_f(sf_index S, sf_index M, sf_index D, const float *loc,
                          const float *scale, uint64_t key, int antithetic, float *x,
                          float *log_prob, int n_threads)
    int sf_gauss_sample_log_scale_d(sf_index S, sf_index M, sf_index D, const double *loc,
                                    const double *log_scale, uint64_t key, int antithetic,
                                    double *x, double *log_prob, int n_threads)
    int sf_gauss_sample_log_scale_f(sf_index S, sf_index M, sf_index D, const float *loc,
                                    const float *log_scale, uint64_t key, int antithetic,
                                    float *x, float *log_prob, int n_threads)
    int sf_gauss_check_log_scale_d(sf_index N, const double *loc, const double *log_scale,
                                   sf_index *bad, int *which)
    int sf_gauss_check_log_scale_f(sf_index N, const float *loc, const float *log_scale,
                                   sf_index *bad, int *which)
    int sf_gauss_reinforce_log_scale_d(sf_index S, sf_index M, sf_index D, const double *loc,
                                       const double *log_scale, const double *x,
                                       const double *rewards, int kind, double c, double eps,
                                       double ddof, double factor, double *g_loc,
                                       double *g_log_scale, int n_threads)
    int sf_gauss_reinforce_log_scale_f(sf_index S, sf_index M, sf_index D, const float *loc,
                                       const float *log_scale, const float *x,
                                       const float *rewards, int kind, double c, double eps,
                                       double ddof, double factor, float *g_loc,
                                       float *g_log_scale, int n_threads)
    int sf_gauss_reinforce_fresh_log_scale_d(sf_index S, sf_index M, sf_index D,
                                             const double *loc, const double *log_scale,
                                             const double *x, const double *rewards, int kind,
                                             double c, double eps, double ddof, double factor,
                                             double *g_loc, double *g_log_scale, int n_threads)
    int sf_gauss_reinforce_fresh_log_scale_f(sf_index S, sf_index M, sf_index D,
                                             const float *loc, const float *log_scale,
                                             const float *x, const float *rewards, int kind,
                                             double c, double eps, double ddof, double factor,
                                             float *g_loc, float *g_log_scale, int n_threads)
    int sf_gauss_check_d(sf_index N, const double *loc, const double *scale,
                         sf_index *bad, int *which)
    int sf_gauss_check_f(sf_index N, const float *loc, const float *scale,
                         sf_index *bad, int *which)
    int sf_gauss_affine_d(sf_index S, sf_index N, const double *loc, const double *scale,
                          double *x, int n_threads)
    int sf_gauss_affine_f(sf_index S, sf_index N, const float *loc, const float *scale,
                          float *x, int n_threads)
    int sf_gauss_log_prob_d(sf_index S, sf_index M, sf_index D, const double *loc,
                            const double *scale, const double *x, double *log_prob,
                            int n_threads)
    int sf_gauss_log_prob_f(sf_index S, sf_index M, sf_index D, const float *loc,
                            const float *scale, const float *x, float *log_prob,
                            int n_threads)
    int sf_gauss_entropy_d(sf_index M, sf_index D, const double *scale, double *entropy)
    int sf_gauss_entropy_f(sf_index M, sf_index D, const float *scale, float *entropy)
    int sf_gauss_score_d(sf_index S, sf_index N, const double *loc, const double *scale,
                         const double *x, double *score_loc, double *score_log_scale,
                         int n_threads)
    int sf_gauss_score_f(sf_index S, sf_index N, const float *loc, const float *scale,
                         const float *x, float *score_loc, float *score_log_scale,
                         int n_threads)
    int sf_gauss_weighted_score_d(sf_index S, sf_index M, sf_index D,
                                  const double *loc, const double *scale, const double *x,
                                  const double *weights, double *g_loc, double *g_log_scale,
                                  int n_threads)
    int sf_gauss_weighted_score_f(sf_index S, sf_index M, sf_index D,
                                  const float *loc, const float *scale, const float *x,
                                  const float *weights, float *g_loc, float *g_log_scale,
                                  int n_threads)
    int sf_gauss_reinforce_d(sf_index S, sf_index M, sf_index D, const double *loc,
                             const double *scale, const double *x, const double *rewards,
                             int kind, double c, double eps, double ddof,
                             double factor, double *g_loc, double *g_log_scale,
                             int n_threads)
    int sf_gauss_reinforce_f(sf_index S, sf_index M, sf_index D, const float *loc,
                             const float *scale, const float *x, const float *rewards,
                             int kind, double c, double eps, double ddof,
                             double factor, float *g_loc, float *g_log_scale,
                             int n_threads)
    int sf_gauss_reinforce_fresh_d(sf_index S, sf_index M, sf_index D, const double *loc,
                                   const double *scale, const double *x,
                                   const double *rewards, int kind, double c, double eps,
                                   double ddof, double factor, double *g_loc,
                                   double *g_log_scale, int n_threads)
    int sf_gauss_reinforce_fresh_f(sf_index S, sf_index M, sf_index D, const float *loc,
                                   const float *scale, const float *x,
                                   const float *rewards, int kind, double c, double eps,
                                   double ddof, double factor, float *g_loc,
                                   float *g_log_scale, int n_threads)
    int sf_gauss_pathwise_d(sf_index S, sf_index M, sf_index D, const double *loc,
                            const double *x, const double *grad_f, double *g_loc,
                            double *g_log_scale, int n_threads)
    int sf_gauss_pathwise_f(sf_index S, sf_index M, sf_index D, const float *loc,
                            const float *x, const float *grad_f, float *g_loc,
                            float *g_log_scale, int n_threads)
