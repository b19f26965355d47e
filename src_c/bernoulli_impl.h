/*
 * Bernoulli kernels, written once over the element type; included by
 * bernoulli.c with SF_T and SF_SUF defined.  See bernoulli.h.
 *
 * Point functions over one row of elements carry SF_CLONES and vectorise;
 * the exported kernels loop over rows, in parallel with OpenMP.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* The probability sigmoid(t), softplus(t) = -log p(0) and their pieces in
 * the logits' type: in float for float32 (sf_expf_nonpos_sub, sf_logf),
 * in double otherwise.  Every kernel forms them through these, so that a
 * probability or log-probability is the same bits in the sampler, probs,
 * log_prob, score and the gradient. */
SF_INLINE SF_T SF_FN(exp_neg_abs)(SF_T t)
{
    if (sizeof(SF_T) == sizeof(float)) return (SF_T)sf_expf_nonpos_sub(-fabsf((float)t));
    return (SF_T)sf_exp_nonpos(-fabs((double)t));
}

SF_INLINE SF_T SF_FN(log1p_small)(SF_T e, SF_T u, SF_T inv_u)
{
    if (sizeof(SF_T) == sizeof(float))
        return (SF_T)sf_log1p_smallf((float)e, (float)u, (float)inv_u);
    return (SF_T)sf_log1p_small((double)e, (double)u, (double)inv_u);
}

SF_INLINE SF_T SF_FN(sigmoid_from)(SF_T t, SF_T e, SF_T inv_u)
{
    if (sizeof(SF_T) == sizeof(float))
        return (SF_T)sf_sigmoid_fromf((float)t, (float)e, (float)inv_u);
    return (SF_T)sf_sigmoid_from((double)t, (double)e, (double)inv_u);
}

SF_INLINE SF_T SF_FN(sigmoid)(SF_T t)
{
    if (sizeof(SF_T) == sizeof(float)) return (SF_T)sf_sigmoidf((float)t);
    return (SF_T)sf_sigmoid((double)t);
}

SF_INLINE SF_T SF_FN(softplus)(SF_T t)
{
    if (sizeof(SF_T) == sizeof(float)) return (SF_T)sf_softplusf((float)t);
    return (SF_T)sf_softplus((double)t);
}

SF_CLONES
static int SF_FN(logits_finite)(sf_index N, const SF_T *logits)
{
    int bad = 0;
    SF_SIMD_REDUCE(|, bad)
    for (sf_index j = 0; j < N; j++) {
        SF_T l = logits[j];         /* in its type: float32 ones sixteen to a vector */
        bad |= !(l - l == 0);       /* NaN for a NaN or infinite l */
    }
    return !bad;
}

int SF_FN(sf_bern_check)(sf_index N, const SF_T *logits, sf_index *bad)
{
    /* one vectorised pass; the first bad element found only when there is one */
    for (sf_index j = SF_FN(logits_finite)(N, logits) ? N : 0; j < N; j++) {
        double l = (double)logits[j];
        if (l != l) { *bad = j; return SF_ERR_NAN; }
        if (l == INFINITY || l == -INFINITY) { *bad = j; return SF_ERR_POSINF; }
    }
    *bad = -1;
    return SF_OK;
}

SF_CLONES
static int SF_FN(row_check_value)(sf_index n, const SF_T *x)
{
    int bad = 0;
    SF_SIMD_REDUCE(|, bad)
    for (sf_index j = 0; j < n; j++) bad |= (x[j] != 0) & (x[j] != 1);
    return bad;
}

/* row_check_value over n values, in blocks spread over the threads when
 * there are many (a step's draws: S times the logits). */
static int SF_FN(values_bad)(sf_index n, const SF_T *value, int n_threads)
{
    int bad = 0;
    sf_index block = SF_PARALLEL_MIN_WORK, blocks = (n + block - 1) / block;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) reduction(| : bad) \
    if (n_threads > 1 && n >= 2 * SF_PARALLEL_MIN_WORK)
    for (sf_index b = 0; b < blocks; b++) {
        sf_index lo = b * block, len = n - lo < block ? n - lo : block;
        bad |= SF_FN(row_check_value)(len, value + lo);
    }
    return bad;
}

int SF_FN(sf_bern_check_value)(sf_index n, const SF_T *value)
{
    return SF_FN(row_check_value)(n, value) ? SF_ERR_VALUE : SF_OK;
}

SF_CLONES
static void SF_FN(row_probs)(sf_index n, const SF_T *l, SF_T *p)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) p[j] = SF_FN(sigmoid)(l[j]);
}

SF_CLONES
static void SF_FN(row_entropy)(sf_index n, const SF_T *l, SF_T *h)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) {
        double t = (double)l[j];
        /* H = -p log p - q log q = p softplus(-t) + q softplus(t), with
         * q = 1 - p = sigmoid(-t) formed directly, not by cancellation */
        h[j] = (SF_T)(sf_sigmoid(t) * sf_softplus(-t) + sf_sigmoid(-t) * sf_softplus(t));
    }
}

/* log p(x) = -softplus(-l) for x = 1, -softplus(l) for x = 0. */
SF_CLONES
static int SF_FN(row_log_prob)(sf_index n, const SF_T *l, const SF_T *x, SF_T *out)
{
    int bad = 0;
    SF_SIMD_REDUCE(|, bad)
    for (sf_index j = 0; j < n; j++) {
        bad |= (x[j] != 0) & (x[j] != 1);
        out[j] = -SF_FN(softplus)(x[j] == 1 ? -l[j] : l[j]);
    }
    return bad;
}

SF_CLONES
static int SF_FN(row_score)(sf_index n, const SF_T *l, const SF_T *x, SF_T *out)
{
    int bad = 0;
    SF_SIMD_REDUCE(|, bad)
    for (sf_index j = 0; j < n; j++) {
        bad |= (x[j] != 0) & (x[j] != 1);
        out[j] = (SF_T)((double)x[j] - (double)SF_FN(sigmoid)(l[j]));
    }
    return bad;
}

/* acc[d] += w * x[d] over one sample of a row, and mark[d] set where x[d]
 * is neither 0 nor 1 (marks, not a returned flag: a reduction's end costs
 * more than a short row's whole loop). */
SF_CLONES
static void SF_FN(row_axpy_value)(sf_index n, double w, const SF_T *x, double *acc, int *mark)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) {
        acc[j] += w * (double)x[j];
        mark[j] |= (x[j] != 0) & (x[j] != 1);
    }
}

/* row_axpy_value for four samples x[0..3] (weights w[0..3]) in one pass,
 * each added in turn to the sum held in a register (the order of four
 * calls, so the same bits), acc loaded and stored once. */
SF_CLONES
static void SF_FN(row_axpy_value4)(sf_index n, const double *w, const SF_T *const *x,
                                   double *acc, int *mark)
{
    const SF_T *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
    double w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    SF_SIMD
    for (sf_index j = 0; j < n; j++) {
        double a = acc[j];
        a += w0 * (double)x0[j];
        a += w1 * (double)x1[j];
        a += w2 * (double)x2[j];
        a += w3 * (double)x3[j];
        acc[j] = a;
        mark[j] |= ((x0[j] != 0) & (x0[j] != 1)) | ((x1[j] != 0) & (x1[j] != 1)) |
                   ((x2[j] != 0) & (x2[j] != 1)) | ((x3[j] != 0) & (x3[j] != 1));
    }
}

/* g[d] = g0[d] + acc[d] - W sigmoid(l[d]) (no sigmoid at all when W = 0):
 * g0 is g itself to add to it, or zeros to write g without reading it (the
 * same values as added to a zero). */
SF_CLONES
static void SF_FN(row_finish_grad)(sf_index n, const SF_T *l, double w_total,
                                   const double *acc, const SF_T *g0, SF_T *g)
{
    if (w_total == 0.0) {
        SF_SIMD
        for (sf_index j = 0; j < n; j++) g[j] = (SF_T)((double)g0[j] + acc[j]);
        return;
    }
    SF_SIMD
    for (sf_index j = 0; j < n; j++)
        g[j] = (SF_T)((double)g0[j] + acc[j] - w_total * (double)SF_FN(sigmoid)(l[j]));
}

/* For a tile of logits: p = sigmoid(l) and the two log-probabilities
 * lp1 = -softplus(-l), lp0 = -softplus(l), in the logits' type (see
 * sigmoid), from one exp, one log and one division. */
SF_CLONES
static void SF_FN(tile_probs)(sf_index n, const SF_T *l, SF_T *p, SF_T *lp1, SF_T *lp0)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) {
        SF_T t = l[j], e = SF_FN(exp_neg_abs)(t), u = 1 + e;
        SF_T inv_u = 1 / u;                    /* the one division */
        SF_T log1pe = SF_FN(log1p_small)(e, u, inv_u);
        p[j] = SF_FN(sigmoid_from)(t, e, inv_u);
        lp1[j] = -((t < 0 ? -t : 0) + log1pe);
        lp0[j] = -((t > 0 ? t : 0) + log1pe);
    }
}

/* One sample of a tile: x = u < p, u from the uniforms given or (uniform
 * NULL) draws first, first + 1, ... of the counter stream keyed by key. */
SF_CLONES
static void SF_FN(tile_sample)(sf_index n, const SF_T *p, const SF_T *lp1, const SF_T *lp0,
                               const double *uniform, uint64_t key, uint64_t first, SF_T *x,
                               SF_T *log_prob)
{
    if (uniform) {
        SF_SIMD
        for (sf_index j = 0; j < n; j++) x[j] = (SF_T)(uniform[j] < (double)p[j]);
    } else {
        uint64_t state = sf_counter_state(key, first);
        SF_SIMD_LINEAR(state, SF_COUNTER_GAMMA)
        for (sf_index j = 0; j < n; j++) {
            x[j] = (SF_T)(sf_uniform_open(sf_splitmix_output(state)) < (double)p[j]);
            state += SF_COUNTER_GAMMA;
        }
    }
    if (log_prob) {
        SF_SIMD
        for (sf_index j = 0; j < n; j++) log_prob[j] = (SF_T)(x[j] == 1 ? lp1[j] : lp0[j]);
    }
}

int SF_FN(sf_bern_probs)(sf_index N, const SF_T *logits, SF_T *probs, int n_threads)
{
    (void)n_threads;
    SF_FN(row_probs)(N, logits, probs);
    return SF_OK;
}

int SF_FN(sf_bern_entropy)(sf_index N, const SF_T *logits, SF_T *entropy, int n_threads)
{
    (void)n_threads;
    SF_FN(row_entropy)(N, logits, entropy);
    return SF_OK;
}

int SF_FN(sf_bern_log_prob)(sf_index S, sf_index N, const SF_T *logits,
                            const SF_T *value, SF_T *log_prob, int n_threads)
{
    int bad = 0;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++)
        bad |= SF_FN(row_log_prob)(N, logits, value + s * N, log_prob + s * N);
    return bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_bern_score)(sf_index S, sf_index N, const SF_T *logits,
                         const SF_T *value, SF_T *score, int n_threads)
{
    int bad = 0;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    reduction(| : bad) if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++)
        bad |= SF_FN(row_score)(N, logits, value + s * N, score + s * N);
    return bad ? SF_ERR_VALUE : SF_OK;
}

/* Work items [lo, hi) of reinforce (item t: tile t % tiles of row t / tiles),
 * with their own scratch: SF_ERR_NOMEM, or SF_ERR_VALUE if some value is
 * neither 0 nor 1 (found as the values are summed: grad is written all the
 * same). */
static int SF_FN(reinforce_items)(sf_index lo, sf_index hi, sf_index S, sf_index M,
                                  sf_index D, sf_index tiles, const SF_T *logits,
                                  const SF_T *value, const SF_T *rewards, int kind, double c,
                                  double eps, double ddof, double scale, int fresh,
                                  SF_T *grad)
{
    if (lo >= hi) return SF_OK;
    double *acc = (double *)malloc((size_t)(SF_TILE + S + 1) * sizeof(double));
    if (!acc) return SF_ERR_NOMEM;
    double *adv = acc + SF_TILE;
    int mark[SF_TILE] = {0}, bad = 0;
    const SF_T zero[SF_TILE] = {0};
    for (sf_index t = lo; t < hi; t++) {
        sf_index m = t / tiles, d0 = (t % tiles) * SF_TILE;
        sf_index n = D - d0 < SF_TILE ? D - d0 : SF_TILE;
        double w_total = SF_FN(column_advantages)(S, M, m, rewards, kind, c, eps, ddof, scale,
                                                  adv);
        for (sf_index d = 0; d < n; d++) acc[d] = 0.0;
        sf_index s = 0;
        for (; s + 4 <= S; s += 4) {
            const SF_T *x4[4];
            for (int k = 0; k < 4; k++) x4[k] = value + ((s + k) * M + m) * D + d0;
            SF_FN(row_axpy_value4)(n, adv + s, x4, acc, mark);
        }
        for (; s < S; s++)
            SF_FN(row_axpy_value)(n, adv[s], value + (s * M + m) * D + d0, acc, mark);
        SF_T *g = grad + m * D + d0;
        SF_FN(row_finish_grad)(n, logits + m * D + d0, w_total, acc, fresh ? zero : g, g);
    }
    free(acc);
    for (sf_index d = 0; d < SF_TILE; d++) bad |= mark[d];
    return bad ? SF_ERR_VALUE : SF_OK;
}

/* grad[m, d] += sum_s a[s, m] (x[s, m, d] - p[m, d])
 *            = sum_s a[s, m] x[s, m, d] - W[m] p[m, d], W = 0 when centred
 * (with fresh, grad = 0 + that, grad unread); items are tiles of
 * coordinates, so a few long rows still spread over the threads; each
 * coordinate's sum over samples runs in order in one item.  The values are
 * checked as they are summed; grad is written whether or not one is found
 * bad. */
static int SF_FN(reinforce)(sf_index S, sf_index M, sf_index D, const SF_T *logits,
                            const SF_T *value, const SF_T *rewards, int kind, double c,
                            double eps, double ddof, double scale, int fresh, SF_T *grad,
                            int n_threads)
{
    int nomem = 0, bad = 0;
    sf_index tiles = (D + SF_TILE - 1) / SF_TILE, items = M * tiles;
    if (n_threads <= 1 || S * M * D < SF_PARALLEL_MIN_WORK)
        return SF_FN(reinforce_items)(0, items, S, M, D, tiles, logits, value, rewards, kind,
                                      c, eps, ddof, scale, fresh, grad);
#pragma omp parallel num_threads(n_threads) reduction(| : nomem, bad)
    {
        sf_index lo, hi;
        sf_thread_range(items, &lo, &hi);
        int st = SF_FN(reinforce_items)(lo, hi, S, M, D, tiles, logits, value, rewards, kind,
                                        c, eps, ddof, scale, fresh, grad);
        nomem |= st == SF_ERR_NOMEM;
        bad |= st == SF_ERR_VALUE;
    }
    return nomem ? SF_ERR_NOMEM : bad ? SF_ERR_VALUE : SF_OK;
}

int SF_FN(sf_bern_reinforce)(sf_index S, sf_index M, sf_index D, const SF_T *logits,
                             const SF_T *value, const SF_T *rewards, int kind, double c,
                             double eps, double ddof, double scale, SF_T *grad,
                             int n_threads)
{
    /* every value checked first: a failed call leaves grad untouched */
    if (SF_FN(values_bad)(S * M * D, value, n_threads)) return SF_ERR_VALUE;
    return SF_FN(reinforce)(S, M, D, logits, value, rewards, kind, c, eps, ddof, scale, 0, grad,
                            n_threads);
}

int SF_FN(sf_bern_reinforce_fresh)(sf_index S, sf_index M, sf_index D, const SF_T *logits,
                                   const SF_T *value, const SF_T *rewards, int kind, double c,
                                   double eps, double ddof, double scale, SF_T *grad,
                                   int n_threads)
{
    return SF_FN(reinforce)(S, M, D, logits, value, rewards, kind, c, eps, ddof, scale, 1, grad,
                            n_threads);
}

int SF_FN(sf_bern_weighted_score)(sf_index S, sf_index M, sf_index D,
                                  const SF_T *logits, const SF_T *value,
                                  const SF_T *weights, SF_T *grad, int n_threads)
{
    return SF_FN(sf_bern_reinforce)(S, M, D, logits, value, weights, SF_BASE_NONE,
                                    0.0, 0.0, 0.0, 1.0, grad, n_threads);
}

/* Tiles [lo, hi) of sf_bern_sample, with their own scratch; with stream,
 * each sample's tile of draws and log-probabilities is formed in the
 * scratch and streamed out (sf_stream.h). */
static int SF_FN(sample_tiles)(sf_index lo, sf_index hi, sf_index tile, sf_index S,
                               sf_index N, const SF_T *logits, const double *uniform,
                               uint64_t key, int stream, SF_T *value, SF_T *log_prob)
{
    if (lo >= hi) return SF_OK;
    SF_T *p = (SF_T *)malloc((3 + (stream ? 2 : 0)) * (size_t)tile * sizeof(SF_T));
    if (!p) return SF_ERR_NOMEM;
    SF_T *x_tile = stream ? p + 3 * tile : NULL;
    SF_T *lp_tile = stream ? x_tile + tile : NULL;
    for (sf_index t = lo; t < hi; t++) {
        sf_index j0 = t * tile, n = N - j0 < tile ? N - j0 : tile;
        SF_FN(tile_probs)(n, logits + j0, p, p + tile, p + 2 * tile);
        for (sf_index s = 0; s < S; s++) {
            SF_T *x = value + s * N + j0, *lp = log_prob ? log_prob + s * N + j0 : NULL;
            SF_FN(tile_sample)(n, p, p + tile, p + 2 * tile,
                               uniform ? uniform + s * N + j0 : NULL, key,
                               (uint64_t)(s * N + j0), stream ? x_tile : x,
                               lp && stream ? lp_tile : lp);
            if (stream) {
                sf_stream_copy(x, x_tile, (size_t)n * sizeof(SF_T));
                if (lp) sf_stream_copy(lp, lp_tile, (size_t)n * sizeof(SF_T));
            }
        }
    }
    if (stream) sf_stream_fence();
    free(p);
    return SF_OK;
}

int SF_FN(sf_bern_sample)(sf_index S, sf_index N, const SF_T *logits,
                          const double *uniform, uint64_t key, SF_T *value,
                          SF_T *log_prob, int n_threads)
{
    /* tiles of elements: their probabilities are computed once and serve
     * every sample; draw s of element j is s * N + j of the stream, so the
     * result does not depend on how tiles fall to threads */
    sf_index tile = 4 * SF_TILE, tiles = (N + tile - 1) / tile;
    int nomem = 0;
    int stream = sf_stream_wanted((size_t)(S * N) * sizeof(SF_T) * (log_prob ? 2 : 1));
    if (n_threads <= 1 || S * N < SF_PARALLEL_MIN_WORK)
        return SF_FN(sample_tiles)(0, tiles, tile, S, N, logits, uniform, key, stream, value,
                                   log_prob);
#pragma omp parallel num_threads(n_threads) reduction(| : nomem)
    {
        sf_index lo, hi;
        sf_thread_range(tiles, &lo, &hi);
        nomem |= SF_FN(sample_tiles)(lo, hi, tile, S, N, logits, uniform, key, stream, value,
                                     log_prob) != SF_OK;
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
