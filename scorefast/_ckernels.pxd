# Declarations of the plain C kernels in src_c/, for Cython code (this
# package's own modules, and other projects that cimport scorefast).
from libc.stdint cimport int64_t

cdef extern from "sf_common.h" nogil:
    ctypedef Py_ssize_t sf_index
    enum:
        SF_OK
        SF_ERR_NOMEM
        SF_ERR_NAN
        SF_ERR_POSINF
        SF_ERR_ALL_MASKED
        SF_ERR_VALUE
    int sf_max_threads()
    int sf_have_openmp()

cdef extern from "categorical.h" nogil:
    int sf_cat_log_normalizer_d(sf_index B, sf_index K, const double *logits,
                                double *lse, sf_index *bad_row, int n_threads)
    int sf_cat_log_normalizer_f(sf_index B, sf_index K, const float *logits,
                                double *lse, sf_index *bad_row, int n_threads)
    int sf_cat_entropy_d(sf_index B, sf_index K, const double *logits,
                         const double *lse, double *entropy, int n_threads)
    int sf_cat_entropy_f(sf_index B, sf_index K, const float *logits,
                         const double *lse, float *entropy, int n_threads)
    int sf_cat_probs_d(sf_index B, sf_index K, const double *logits,
                       const double *lse, double *probs, int n_threads)
    int sf_cat_probs_f(sf_index B, sf_index K, const float *logits,
                       const double *lse, float *probs, int n_threads)
    int sf_cat_log_prob_d(sf_index S, sf_index B, sf_index K, const double *logits,
                          const double *lse, const int64_t *value, double *log_prob,
                          int n_threads)
    int sf_cat_log_prob_f(sf_index S, sf_index B, sf_index K, const float *logits,
                          const double *lse, const int64_t *value, float *log_prob,
                          int n_threads)
    int sf_cat_score_d(sf_index S, sf_index B, sf_index K, const double *logits,
                       const double *lse, const int64_t *value, double *score,
                       int n_threads)
    int sf_cat_score_f(sf_index S, sf_index B, sf_index K, const float *logits,
                       const double *lse, const int64_t *value, float *score,
                       int n_threads)
    int sf_cat_weighted_score_d(sf_index S, sf_index B, sf_index K,
                                const double *logits, const double *lse,
                                const int64_t *value, const double *weights,
                                double *grad, int n_threads)
    int sf_cat_weighted_score_f(sf_index S, sf_index B, sf_index K,
                                const float *logits, const double *lse,
                                const int64_t *value, const float *weights,
                                float *grad, int n_threads)
    int sf_cat_sample_d(sf_index S, sf_index B, sf_index K, const double *logits,
                        const double *uniform, int64_t *value, int n_threads)
    int sf_cat_sample_f(sf_index S, sf_index B, sf_index K, const float *logits,
                        const double *uniform, int64_t *value, int n_threads)
