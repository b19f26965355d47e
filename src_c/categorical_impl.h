/*
 * Categorical kernels, written once over the element type.
 *
 * Included by categorical.c with SF_T (float or double) and SF_SUF (f or d)
 * defined; see categorical.h for what each kernel computes.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* Maximum of one row; flags NaN and +inf.  -inf entries (masked classes)
 * are allowed as long as one entry is finite. */
static inline int SF_FN(row_max)(sf_index K, const SF_T *l, double *out)
{
    double m = -INFINITY;
    int has_nan = 0;
    for (sf_index k = 0; k < K; k++) {
        double x = (double)l[k];
        has_nan |= (x != x);
        m = x > m ? x : m;
    }
    if (has_nan) return SF_ERR_NAN;
    if (m == INFINITY) return SF_ERR_POSINF;
    if (m == -INFINITY) return SF_ERR_ALL_MASKED;
    *out = m;
    return SF_OK;
}

/* log p_k of a row from its normaliser nm = (max, log sum exp(l - max)).
 * Subtracting the two parts separately keeps log p exact for logits so
 * large that max + log sum would round the sum away. */
static inline double SF_FN(row_logp)(const SF_T *l, sf_index k, const double *nm)
{
    return ((double)l[k] - nm[0]) - nm[1];
}

int SF_FN(sf_cat_log_normalizer)(sf_index B, sf_index K, const SF_T *logits,
                                 double *norm, sf_index *bad_row, int n_threads)
{
    int status = SF_OK;
    sf_index first_bad = B;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++) {
        const SF_T *l = logits + i * K;
        double m = 0.0;
        int st = SF_FN(row_max)(K, l, &m);
        if (st != SF_OK) {
            norm[2 * i] = norm[2 * i + 1] = NAN;
#pragma omp critical(sf_cat_bad_row)
            if (i < first_bad) { first_bad = i; status = st; }
            continue;
        }
        double s = 0.0;
        for (sf_index k = 0; k < K; k++) s += exp((double)l[k] - m);
        norm[2 * i] = m;
        norm[2 * i + 1] = log(s);
    }
    if (bad_row) *bad_row = first_bad < B ? first_bad : -1;
    return status;
}

int SF_FN(sf_cat_entropy)(sf_index B, sf_index K, const SF_T *logits,
                          const double *norm, SF_T *entropy, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++) {
        const SF_T *l = logits + i * K;
        double h = 0.0;
        for (sf_index k = 0; k < K; k++) {
            double neg_logp = -SF_FN(row_logp)(l, k, norm + 2 * i);
            double p = exp(-neg_logp);
            if (p > 0.0) h += p * neg_logp;
        }
        entropy[i] = (SF_T)h;
    }
    return SF_OK;
}

int SF_FN(sf_cat_probs)(sf_index B, sf_index K, const SF_T *logits,
                        const double *norm, SF_T *probs, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++) {
        const SF_T *l = logits + i * K;
        SF_T *p = probs + i * K;
        for (sf_index k = 0; k < K; k++) p[k] = (SF_T)exp(SF_FN(row_logp)(l, k, norm + 2 * i));
    }
    return SF_OK;
}

int SF_FN(sf_cat_log_prob)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                           const double *norm, const int64_t *value, SF_T *log_prob,
                           int n_threads)
{
    int bad = 0;
    sf_index n = S * B;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && n >= SF_PARALLEL_MIN_WORK)
    for (sf_index j = 0; j < n; j++) {
        sf_index i = j % B;
        int64_t v = value[j];
        if (v < 0 || v >= K) { bad = 1; log_prob[j] = (SF_T)NAN; continue; }
        log_prob[j] = (SF_T)SF_FN(row_logp)(logits + i * K, v, norm + 2 * i);
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_cat_score)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                        const double *norm, const int64_t *value, SF_T *score,
                        int n_threads)
{
    int bad = 0;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && S * B * K >= SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++) {
        const SF_T *l = logits + i * K;
        for (sf_index s = 0; s < S; s++) {
            SF_T *out = score + (s * B + i) * K;
            for (sf_index k = 0; k < K; k++) out[k] = (SF_T)(-exp(SF_FN(row_logp)(l, k, norm + 2 * i)));
            int64_t v = value[s * B + i];
            if (v < 0 || v >= K) { bad = 1; continue; }
            out[v] = (SF_T)(1.0 - exp(SF_FN(row_logp)(l, v, norm + 2 * i)));
        }
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_cat_weighted_score)(sf_index S, sf_index B, sf_index K,
                                 const SF_T *logits, const double *norm,
                                 const int64_t *value, const SF_T *weights,
                                 SF_T *grad, int n_threads)
{
    int bad = 0, nomem = 0;
    (void)n_threads;
#pragma omp parallel num_threads(n_threads) \
    reduction(| : bad, nomem) if (n_threads > 1 && S * B * K >= SF_PARALLEL_MIN_WORK)
    {
        double *acc = (double *)malloc((size_t)K * sizeof(double));
        if (!acc) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index i = 0; i < B; i++) {
            if (!acc) continue;
            const SF_T *l = logits + i * K;
            /* sum_s w_s * (onehot(v_s) - p) = -W p + sum_s w_s onehot(v_s) */
            double w_total = 0.0;
            for (sf_index s = 0; s < S; s++) w_total += (double)weights[s * B + i];
            for (sf_index k = 0; k < K; k++)
                acc[k] = -w_total * exp(SF_FN(row_logp)(l, k, norm + 2 * i));
            for (sf_index s = 0; s < S; s++) {
                int64_t v = value[s * B + i];
                if (v < 0 || v >= K) { bad = 1; continue; }
                acc[v] += (double)weights[s * B + i];
            }
            SF_T *g = grad + i * K;
            for (sf_index k = 0; k < K; k++) g[k] = (SF_T)((double)g[k] + acc[k]);
        }
        free(acc);
    }
    if (nomem) return SF_ERR_NOMEM;
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_cat_sample)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                         const double *uniform, int64_t *value, int n_threads)
{
    int nomem = 0;
    (void)n_threads;
#pragma omp parallel num_threads(n_threads) \
    reduction(| : nomem) if (n_threads > 1 && S * B * K >= SF_PARALLEL_MIN_WORK)
    {
        double *cdf = (double *)malloc((size_t)K * sizeof(double));
        if (!cdf) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index i = 0; i < B; i++) {
            if (!cdf) continue;
            const SF_T *l = logits + i * K;
            double m = 0.0;
            if (SF_FN(row_max)(K, l, &m) != SF_OK) {
                /* Rows are validated when the distribution is built; a bad
                 * row here can only come with validation switched off. */
                for (sf_index s = 0; s < S; s++) value[s * B + i] = -1;
                continue;
            }
            double c = 0.0;
            for (sf_index k = 0; k < K; k++) {
                c += exp((double)l[k] - m);
                cdf[k] = c;
            }
            for (sf_index s = 0; s < S; s++) {
                double t = uniform[s * B + i] * c;
                /* first k with cdf[k] > t: such a class has p_k > 0 */
                sf_index lo = 0, hi = K - 1;
                while (lo < hi) {
                    sf_index mid = lo + (hi - lo) / 2;
                    if (cdf[mid] > t) hi = mid; else lo = mid + 1;
                }
                /* t rounded up to the total: take the last class with p > 0 */
                while (lo > 0 && cdf[lo] == cdf[lo - 1]) lo--;
                value[s * B + i] = (int64_t)lo;
            }
        }
        free(cdf);
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
