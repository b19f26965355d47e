/*
 * Bernoulli kernels, written once over the element type; included by
 * bernoulli.c with SF_T and SF_SUF defined.  See bernoulli.h.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

int SF_FN(sf_bern_check)(sf_index N, const SF_T *logits, sf_index *bad)
{
    for (sf_index j = 0; j < N; j++) {
        double l = (double)logits[j];
        if (l != l) { *bad = j; return SF_ERR_NAN; }
        if (l == INFINITY || l == -INFINITY) { *bad = j; return SF_ERR_POSINF; }
    }
    *bad = -1;
    return SF_OK;
}

int SF_FN(sf_bern_check_value)(sf_index n, const SF_T *value)
{
    int bad = 0;
    for (sf_index j = 0; j < n; j++) bad |= (value[j] != 0) & (value[j] != 1);
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_bern_probs)(sf_index N, const SF_T *logits, SF_T *probs, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && N >= SF_PARALLEL_MIN_WORK)
    for (sf_index j = 0; j < N; j++) probs[j] = (SF_T)sf_sigmoid((double)logits[j]);
    return SF_OK;
}

int SF_FN(sf_bern_entropy)(sf_index N, const SF_T *logits, SF_T *entropy, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && N >= SF_PARALLEL_MIN_WORK)
    for (sf_index j = 0; j < N; j++) {
        double l = (double)logits[j];
        double p = sf_sigmoid(l);
        /* H = -p log p - (1 - p) log(1 - p) */
        entropy[j] = (SF_T)(p * sf_softplus(-l) + (1.0 - p) * sf_softplus(l));
    }
    return SF_OK;
}

int SF_FN(sf_bern_log_prob)(sf_index S, sf_index N, const SF_T *logits,
                            const SF_T *value, SF_T *log_prob, int n_threads)
{
    int bad = 0;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++) {
        const SF_T *x = value + s * N;
        SF_T *out = log_prob + s * N;
        for (sf_index j = 0; j < N; j++) {
            double l = (double)logits[j];
            if (x[j] == 1) out[j] = (SF_T)(-sf_softplus(-l));
            else if (x[j] == 0) out[j] = (SF_T)(-sf_softplus(l));
            else { bad = 1; out[j] = (SF_T)NAN; }
        }
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_bern_score)(sf_index S, sf_index N, const SF_T *logits,
                         const SF_T *value, SF_T *score, int n_threads)
{
    int bad = 0;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++) {
        const SF_T *x = value + s * N;
        SF_T *out = score + s * N;
        for (sf_index j = 0; j < N; j++) {
            if (x[j] != 0 && x[j] != 1) bad = 1;
            out[j] = (SF_T)((double)x[j] - sf_sigmoid((double)logits[j]));
        }
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_bern_weighted_score)(sf_index S, sf_index M, sf_index D,
                                  const SF_T *logits, const SF_T *value,
                                  const SF_T *weights, SF_T *grad, int n_threads)
{
    int bad = 0;
    (void)n_threads;
    /* grad[m, d] += sum_s w[s, m] (x[s, m, d] - p[m, d])
     *            = sum_s w[s, m] x[s, m, d] - W[m] p[m, d]           */
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && S * M * D >= SF_PARALLEL_MIN_WORK)
    for (sf_index m = 0; m < M; m++) {
        const SF_T *l = logits + m * D;
        SF_T *g = grad + m * D;
        double w_total = 0.0;
        for (sf_index s = 0; s < S; s++) w_total += (double)weights[s * M + m];
        for (sf_index d = 0; d < D; d++) {
            double acc = -w_total * sf_sigmoid((double)l[d]);
            for (sf_index s = 0; s < S; s++) {
                SF_T x = value[(s * M + m) * D + d];
                if (x != 0 && x != 1) bad = 1;
                acc += (double)weights[s * M + m] * (double)x;
            }
            g[d] = (SF_T)((double)g[d] + acc);
        }
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_bern_sample)(sf_index S, sf_index N, const SF_T *logits,
                          const double *uniform, SF_T *value, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++) {
        const double *u = uniform + s * N;
        SF_T *x = value + s * N;
        for (sf_index j = 0; j < N; j++)
            x[j] = (SF_T)(u[j] < sf_sigmoid((double)logits[j]));
    }
    return SF_OK;
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
