/*
 * Categorical kernels, written once over the element type.
 *
 * Included by categorical.c with SF_T (float or double) and SF_SUF (f or d)
 * defined; see categorical.h for what each kernel computes.
 *
 * Point functions work on one row and carry SF_CLONES, so their simple
 * loops are vectorised for the widest SIMD the machine has; the exported
 * kernels loop over rows, in parallel with OpenMP.  All arithmetic is in
 * double, whatever SF_T is.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* log p_k of a row from its normaliser nm = (max, log sum exp(l - max)).
 * Subtracting the two parts separately keeps log p exact for logits so
 * large that max + log sum would round the sum away. */
static inline double SF_FN(row_logp)(const SF_T *l, sf_index k, const double *nm)
{
    return ((double)l[k] - nm[0]) - nm[1];
}

/* The row's maximum into nm[0] (nm[1], the log-sum, is left for later),
 * copying the row to dst if dst is not NULL.  NaN, +inf and a row of -inf
 * only are errors (nm[0] = NaN); -inf entries (masked classes) are allowed. */
SF_CLONES
static int SF_FN(row_max)(sf_index K, const SF_T *l, SF_T *dst, double *nm)
{
    double m = -INFINITY;
    int has_nan = 0;
    if (dst) {
        SF_SIMD
        for (sf_index k = 0; k < K; k++) dst[k] = l[k];
    }
    SF_SIMD_REDUCE2(max, m, |, has_nan)
    for (sf_index k = 0; k < K; k++) {
        double x = (double)l[k];
        has_nan |= (x != x);
        m = x > m ? x : m;
    }
    nm[1] = NAN;
    if (has_nan || m == INFINITY || m == -INFINITY) {
        nm[0] = NAN;
        return has_nan ? SF_ERR_NAN : m == INFINITY ? SF_ERR_POSINF : SF_ERR_ALL_MASKED;
    }
    nm[0] = m;
    return SF_OK;
}

/* e[k] = exp(l_k - m), the sums of its blocks of SF_BLOCK, and (returned)
 * their total: the one way every kernel sums a row, so that the log-sum is
 * the same whichever kernel computes it. */
#define SF_BLOCK 32
SF_CLONES
static double SF_FN(row_exp_blocks)(sf_index K, const SF_T *l, double m, double *e,
                                    double *block)
{
    SF_SIMD
    for (sf_index k = 0; k < K; k++) e[k] = sf_exp((double)l[k] - m);
    sf_index nb = (K + SF_BLOCK - 1) / SF_BLOCK;
    double total = 0.0;
    for (sf_index b = 0; b < nb; b++) {
        sf_index lo = b * SF_BLOCK, hi = lo + SF_BLOCK < K ? lo + SF_BLOCK : K;
        double s = 0.0;
        SF_SIMD_REDUCE(+, s)
        for (sf_index k = lo; k < hi; k++) s += e[k];
        block[b] = s;
        total += s;
    }
    return total;
}

SF_CLONES
static double SF_FN(row_entropy)(sf_index K, const SF_T *l, const double *nm)
{
    double h = 0.0;
    SF_SIMD_REDUCE(+, h)
    for (sf_index k = 0; k < K; k++) {
        double logp = ((double)l[k] - nm[0]) - nm[1];
        double p = sf_exp(logp);
        h += p == 0.0 ? 0.0 : -p * logp;    /* a masked class adds 0; NaN propagates */
    }
    return h;
}

SF_CLONES
static void SF_FN(row_probs)(sf_index K, const SF_T *l, const double *nm, SF_T *p)
{
    SF_SIMD
    for (sf_index k = 0; k < K; k++) p[k] = (SF_T)sf_exp(((double)l[k] - nm[0]) - nm[1]);
}

/* g[k] += -W p_k: the part of a weighted score that every sample shares. */
SF_CLONES
static void SF_FN(row_axpy_probs)(sf_index K, const SF_T *l, const double *nm,
                                  double w_total, SF_T *g)
{
    SF_SIMD
    for (sf_index k = 0; k < K; k++)
        g[k] = (SF_T)((double)g[k] - w_total * sf_exp(((double)l[k] - nm[0]) - nm[1]));
}

/* The class whose interval of the cumulative weights holds t in [0, total):
 * the first k with e[0] + ... + e[k] > t, found block by block.  Such a
 * class has e[k] > 0, so a masked class is never drawn; where rounding puts
 * t past every partial sum, the last class with e[k] > 0. */
static sf_index SF_FN(row_invert)(sf_index K, const double *e, const double *block,
                                  double t)
{
    sf_index nb = (K + SF_BLOCK - 1) / SF_BLOCK;
    double acc = 0.0;
    sf_index b = 0;
    while (b < nb - 1 && acc + block[b] <= t) acc += block[b++];
    sf_index lo = b * SF_BLOCK, hi = lo + SF_BLOCK < K ? lo + SF_BLOCK : K;
    for (sf_index k = lo; k < hi; k++) {
        acc += e[k];
        if (acc > t) return k;
    }
    for (sf_index k = hi - 1; k > 0; k--)
        if (e[k] > 0.0) return k;
    return 0;
}

int SF_FN(sf_cat_prepare)(sf_index B, sf_index K, const SF_T *logits, SF_T *copy,
                          double *norm, sf_index *bad_row, int n_threads)
{
    sf_index first_bad = B;
    int status = SF_OK;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && B * K >= 4 * SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++) {
        int st = SF_FN(row_max)(K, logits + i * K, copy ? copy + i * K : NULL, norm + 2 * i);
        if (st != SF_OK) {
#pragma omp critical(sf_cat_bad_row)
            if (i < first_bad) { first_bad = i; status = st; }
        }
    }
    if (bad_row) *bad_row = first_bad < B ? first_bad : -1;
    return status;
}

int SF_FN(sf_cat_log_normalizer)(sf_index B, sf_index K, const SF_T *logits,
                                 double *norm, int n_threads)
{
    int nomem = 0;
    sf_index nb = (K + SF_BLOCK - 1) / SF_BLOCK;
    (void)n_threads;
#pragma omp parallel num_threads(n_threads) reduction(| : nomem) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    {
        double *e = (double *)malloc((size_t)(K + nb) * sizeof(double));
        if (!e) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index i = 0; i < B; i++) {
            double *nm = norm + 2 * i;
            if (!e || nm[0] != nm[0]) continue;       /* an invalid row stays NaN */
            nm[1] = log(SF_FN(row_exp_blocks)(K, logits + i * K, nm[0], e, e + K));
        }
        free(e);
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

int SF_FN(sf_cat_entropy)(sf_index B, sf_index K, const SF_T *logits,
                          const double *norm, SF_T *entropy, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++)
        entropy[i] = (SF_T)SF_FN(row_entropy)(K, logits + i * K, norm + 2 * i);
    return SF_OK;
}

int SF_FN(sf_cat_probs)(sf_index B, sf_index K, const SF_T *logits,
                        const double *norm, SF_T *probs, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    for (sf_index i = 0; i < B; i++)
        SF_FN(row_probs)(K, logits + i * K, norm + 2 * i, probs + i * K);
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
            SF_FN(row_probs)(K, l, norm + 2 * i, out);
            for (sf_index k = 0; k < K; k++) out[k] = -out[k];
            int64_t v = value[s * B + i];
            if (v < 0 || v >= K) { bad = 1; continue; }
            out[v] = (SF_T)(1.0 - sf_exp(SF_FN(row_logp)(l, v, norm + 2 * i)));
        }
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_cat_reinforce)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                            const double *norm, const int64_t *value,
                            const SF_T *rewards, int kind, double c, double eps,
                            double ddof, double scale, SF_T *grad, int n_threads)
{
    int nomem = 0;
    (void)n_threads;
    /* every value checked first: a failed call leaves grad untouched */
    if (sf_cat_check_value(S * B, K, value) != SF_OK) return SF_ERR_VALUE;
    /* sum_s a_s (onehot(v_s) - p) = -W p + sum_s a_s onehot(v_s), W = sum_s a_s;
     * a centred baseline has W = 0 and needs no pass over the probabilities */
#pragma omp parallel num_threads(n_threads) reduction(| : nomem) \
    if (n_threads > 1 && S * B * K >= SF_PARALLEL_MIN_WORK)
    {
        /* adv: the S advantages of a row; cls: per-class sums in double, all
         * zero between rows (only the drawn classes are touched and reset) */
        double *adv = (double *)malloc((size_t)(S > 0 ? S : 1) * sizeof(double));
        double *cls = (double *)calloc((size_t)K, sizeof(double));
        if (!adv || !cls) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index i = 0; i < B; i++) {
            if (!adv || !cls) continue;
            SF_T *g = grad + i * K;
            double w_total = SF_FN(column_advantages)(S, B, i, rewards, kind, c, eps,
                                                      ddof, scale, adv);
            if (w_total != 0.0)
                SF_FN(row_axpy_probs)(K, logits + i * K, norm + 2 * i, w_total, g);
            /* the values were checked above; the range test here still keeps
             * every access in bounds should value share memory with grad */
            for (sf_index s = 0; s < S; s++) {
                int64_t v = value[s * B + i];
                if (v >= 0 && v < K) cls[v] += adv[s];
            }
            /* each drawn class is added to g once, rounded once */
            for (sf_index s = 0; s < S; s++) {
                int64_t v = value[s * B + i];
                if (v < 0 || v >= K) continue;
                g[v] = (SF_T)((double)g[v] + cls[v]);
                cls[v] = 0.0;
            }
        }
        free(adv);
        free(cls);
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

int SF_FN(sf_cat_weighted_score)(sf_index S, sf_index B, sf_index K,
                                 const SF_T *logits, const double *norm,
                                 const int64_t *value, const SF_T *weights,
                                 SF_T *grad, int n_threads)
{
    return SF_FN(sf_cat_reinforce)(S, B, K, logits, norm, value, weights, SF_BASE_NONE,
                                   0.0, 0.0, 0.0, 1.0, grad, n_threads);
}

int SF_FN(sf_cat_sample)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                         double *norm, int fill_norm, const double *uniform,
                         int64_t *value, SF_T *log_prob, int n_threads)
{
    int nomem = 0;
    sf_index nb = (K + SF_BLOCK - 1) / SF_BLOCK;
    (void)n_threads;
#pragma omp parallel num_threads(n_threads) \
    reduction(| : nomem) if (n_threads > 1 && S * B * K >= SF_PARALLEL_MIN_WORK)
    {
        double *e = (double *)malloc((size_t)(K + nb) * sizeof(double));
        if (!e) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index i = 0; i < B; i++) {
            if (!e) continue;
            const SF_T *l = logits + i * K;
            double *nm = norm + 2 * i;
            if (nm[0] != nm[0]) {
                /* a row that failed validation (possible only with validation
                 * switched off): no class to draw */
                for (sf_index s = 0; s < S; s++) {
                    value[s * B + i] = -1;
                    if (log_prob) log_prob[s * B + i] = (SF_T)NAN;
                }
                continue;
            }
            double total = SF_FN(row_exp_blocks)(K, l, nm[0], e, e + K);
            if (fill_norm) nm[1] = log(total);
            for (sf_index s = 0; s < S; s++) {
                sf_index k = SF_FN(row_invert)(K, e, e + K, uniform[s * B + i] * total);
                value[s * B + i] = (int64_t)k;
                if (log_prob) log_prob[s * B + i] = (SF_T)SF_FN(row_logp)(l, k, nm);
            }
        }
        free(e);
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
