/*
 * Gaussian kernels, written once over the element type; included by
 * gaussian.c with SF_T and SF_SUF defined.  See gaussian.h.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* Rows shorter than this (a vector of float, two of double) go through
 * the gradient as whole runs of rows (rows_reinforce_one and _short): a
 * row's own loop would run in its scalar remainder. */
#ifndef SF_SHORT_ROW
#define SF_SHORT_ROW 16
#endif

/* The log scales a float32 or float64 parameter may hold: [-87, 87] and
 * [-708, 708], where the scale and its inverse are normal numbers of the
 * type (so that float32's are computed in float, by sf_expf). */
#define SF_LOG_SCALE_MAX (sizeof(SF_T) == sizeof(float) ? 87.0 : 708.0)
#define SF_LOG_SCALE_MIN (-SF_LOG_SCALE_MAX)

/* 1 if every loc is finite and every scale in (0, inf), or with is_log
 * every log scale in [SF_LOG_SCALE_MIN, SF_LOG_SCALE_MAX]: one branch-free
 * pass that vectorises, so that valid parameters (the usual case) are
 * checked at the speed of reading them.  In the parameters' type (the
 * bounds are floats too), sixteen float32 ones to a vector: converting each
 * to double first made the float32 check a tenth of P1 large's sampler. */
SF_CLONES
static int SF_FN(params_ok)(sf_index N, const SF_T *loc, const SF_T *scale, int is_log)
{
    int bad = 0;
    if (is_log) {
        const SF_T lo = (SF_T)SF_LOG_SCALE_MIN, hi = (SF_T)SF_LOG_SCALE_MAX;
        SF_SIMD_REDUCE(|, bad)
        for (sf_index j = 0; j < N; j++) {
            SF_T mu = loc[j], ls = scale[j];
            bad |= !(mu - mu == 0) | !(ls >= lo) | !(ls <= hi);
        }
        return !bad;
    }
    SF_SIMD_REDUCE(|, bad)
    for (sf_index j = 0; j < N; j++) {
        SF_T mu = loc[j], sigma = scale[j];
        /* mu - mu is NaN for a NaN or infinite mu */
        bad |= !(mu - mu == 0) | !(sigma > 0) | (sigma == (SF_T)INFINITY);
    }
    return !bad;
}

/* sf_gauss_check and sf_gauss_check_log_scale. */
static int SF_FN(check)(sf_index N, const SF_T *loc, const SF_T *scale, int is_log,
                        sf_index *bad, int *which)
{
    /* the first bad element, and what is wrong with it, only when there is one */
    for (sf_index j = SF_FN(params_ok)(N, loc, scale, is_log) ? N : 0; j < N; j++) {
        double mu = (double)loc[j], sigma = (double)scale[j];
        if (mu != mu) { *bad = j; *which = 0; return SF_ERR_NAN; }
        if (mu == INFINITY || mu == -INFINITY) { *bad = j; *which = 0; return SF_ERR_INF; }
        int out = is_log ? !(sigma >= SF_LOG_SCALE_MIN && sigma <= SF_LOG_SCALE_MAX)
                         : !(sigma > 0.0) || sigma == INFINITY;
        if (out) { *bad = j; *which = 1; return SF_ERR_SCALE; }
    }
    *bad = -1;
    *which = -1;
    return SF_OK;
}

int SF_FN(sf_gauss_check)(sf_index N, const SF_T *loc, const SF_T *scale,
                          sf_index *bad, int *which)
{
    return SF_FN(check)(N, loc, scale, 0, bad, which);
}

int SF_FN(sf_gauss_check_log_scale)(sf_index N, const SF_T *loc, const SF_T *log_scale,
                                    sf_index *bad, int *which)
{
    return SF_FN(check)(N, loc, log_scale, 1, bad, which);
}

int SF_FN(sf_gauss_affine)(sf_index S, sf_index N, const SF_T *loc, const SF_T *scale,
                           SF_T *x, int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++) {
        SF_T *row = x + s * N;
        for (sf_index j = 0; j < N; j++) row[j] = loc[j] + scale[j] * row[j];
    }
    return SF_OK;
}

/* z[j] = standard normal draw first + j of the stream keyed by key, j < n
 * (for float32 parameters, the float32 stream: sf_counter_normal_f).  The
 * quantile's central piece is evaluated for every draw; the tail piece (a
 * log, a square root and a second rational function) only for the 15% of
 * draws that need it, gathered into idx and tail (scratch of n +
 * SF_TAIL_BLOCK each): the same values as sf_counter_normal(_f), at about
 * half the cost.
 * The draws that need it are marked by a byte each (in tail's memory until
 * the tails are computed) and listed by sf_marked. */
#ifndef SF_MARKED_HELPERS
#define SF_MARKED_HELPERS
#ifndef SF_TAIL_BLOCK
#define SF_TAIL_BLOCK 16
#endif

/* The indices j < n with mark[j] = 1 (each mark 0 or 1), in increasing
 * order, into idx (room for n + 16; mark readable up to a multiple of 64
 * past n, and zeroed there); their count.  With AVX-512 (BW and VL),
 * sixteen marks at a time become a mask whose indices are compressed into
 * place; else 64-bit words of marks whose set bits give the indices in
 * turn. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SF_NO_CLONES)
#include <immintrin.h>
__attribute__((target("avx512f,avx512bw,avx512vl")))
static sf_index sf_marked_avx512(sf_index n, const unsigned char *mark, sf_index *idx)
{
    const __m512i eight = _mm512_set1_epi64(8);
    __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    sf_index m = 0, j = 0;
    for (; j + 16 <= n; j += 16) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)(const void *)(mark + j));
        unsigned k = _mm_test_epi8_mask(bytes, bytes);
        __m512i next = _mm512_add_epi64(lanes, eight);
        _mm512_storeu_si512((void *)(idx + m),
                            _mm512_maskz_compress_epi64((__mmask8)(k & 0xffu), lanes));
        m += __builtin_popcount(k & 0xffu);
        _mm512_storeu_si512((void *)(idx + m),
                            _mm512_maskz_compress_epi64((__mmask8)(k >> 8), next));
        m += __builtin_popcount(k >> 8);
        lanes = _mm512_add_epi64(next, eight);
    }
    for (; j < n; j++)
        if (mark[j]) idx[m++] = j;
    return m;
}
#define SF_MARKED_AVX512 1
#endif

static sf_index sf_marked_words(sf_index n, unsigned char *mark, sf_index *idx)
{
    sf_index m = 0, words = (n + 63) / 64;
    for (sf_index j = n; j < 64 * words; j++) mark[j] = 0;
    for (sf_index w = 0; w < words; w++) {
        /* the 64 marks as the bits of one word (each byte of 0 or 1 times
         * 0x0102040810204080 has its 8 marks in its top byte), then its
         * set bits in turn */
        uint64_t bits = 0;
        for (int b = 0; b < 8; b++) {
            uint64_t eight;
            memcpy(&eight, mark + 64 * w + 8 * b, sizeof eight);
            bits |= ((eight * 0x0102040810204080ULL) >> 56) << (8 * b);
        }
        for (; bits; bits &= bits - 1) idx[m++] = 64 * w + (sf_index)__builtin_ctzll(bits);
    }
    return m;
}

static sf_index sf_marked(sf_index n, unsigned char *mark, sf_index *idx)
{
#ifdef SF_MARKED_AVX512
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return sf_marked_avx512(n, mark, idx);
#endif
    return sf_marked_words(n, mark, idx);
}
#endif
SF_CLONES
static void SF_FN(normals)(sf_index n, uint64_t key, uint64_t first, double *z,
                           sf_index *idx, double *tail, uint64_t *words)
{
    const int f32 = sizeof(SF_T) == sizeof(float);
    unsigned char *in_tail = (unsigned char *)tail;
    /* float32: the outputs holding draws [first, first + n) into words
     * (room for (n + SF_TAIL_BLOCK) / 2 + 2), then read as 32-bit halves
     * (sf_counter_offset32) */
    const uint32_t *bits = (const uint32_t *)words + (first & 1);
    uint64_t state = sf_counter_state(key, f32 ? first >> 1 : first);
    if (f32) {
        sf_index nw = (sf_index)(((first + (uint64_t)n + 1) >> 1) - (first >> 1));
        SF_SIMD_LINEAR(state, SF_COUNTER_GAMMA)
        for (sf_index i = 0; i < nw; i++) {
            words[i] = sf_halves_in_order(sf_splitmix_output(state));
            state += SF_COUNTER_GAMMA;
        }
        SF_SIMD
        for (sf_index j = 0; j < n; j++) {
            float q = sf_offset32_q(sf_offset32(bits[j]));
            int central = sf_normal_is_central_f(q);
            z[j] = central ? (double)sf_normal_quantile_central_f(q) : 0.0;
            in_tail[j] = (unsigned char)!central;
        }
    } else {
        SF_SIMD_LINEAR(state, SF_COUNTER_GAMMA)
        for (sf_index j = 0; j < n; j++) {
            double q = sf_uniform_open(sf_splitmix_output(state)) - 0.5;
            int central = sf_normal_is_central(q);
            z[j] = central ? sf_normal_quantile_central(q) : 0.0;
            in_tail[j] = (unsigned char)!central;
            state += SF_COUNTER_GAMMA;
        }
    }
    sf_index m = sf_marked(n, in_tail, idx);
    /* the tails in whole blocks of SF_TAIL_BLOCK lanes, the last block's
     * lanes past m on draw 0 (computed, not used): a partial vector would
     * go through the loop's scalar remainder, one draw at a time */
    sf_index padded = (m + SF_TAIL_BLOCK - 1) / SF_TAIL_BLOCK * SF_TAIL_BLOCK;
    for (sf_index t = m; t < padded; t++) idx[t] = 0;
    /* float32: the tail draws' bits gathered to the front of words, in
     * place (draw idx[t] >= t is read before position t is written) */
    uint32_t *tail_bits = (uint32_t *)words;
    if (f32)
        for (sf_index t = 0; t < padded; t++) tail_bits[t] = bits[idx[t]];
    for (sf_index t0 = 0; t0 < padded; t0 += SF_TAIL_BLOCK) {
        if (f32) {
            SF_SIMD
            for (sf_index t = t0; t < t0 + SF_TAIL_BLOCK; t++)
                tail[t] = (double)sf_normal_quantile_tail_f(sf_offset32(tail_bits[t]));
        } else {
            SF_SIMD
            for (sf_index t = t0; t < t0 + SF_TAIL_BLOCK; t++)
                tail[t] = sf_normal_quantile_tail(
                    sf_counter_uniform(key, first + (uint64_t)idx[t]));
        }
    }
    for (sf_index t = 0; t < m; t++) z[idx[t]] = tail[t];
}

/* exp(x) for a log scale (or its negative) in the type: in float for
 * float32 (sixteen lanes to a vector), in double otherwise. */
SF_INLINE SF_T SF_FN(exp_of_log)(SF_T x)
{
    if (sizeof(SF_T) == sizeof(float)) return (SF_T)sf_expf((float)x);
    return (SF_T)sf_exp((double)x);
}

/* The scale a log scale stands for, a number of the parameters' type (so
 * that every path draws with a scale a caller could pass instead). */
SF_INLINE double SF_FN(scale_of_log)(SF_T log_scale)
{
    return (double)SF_FN(exp_of_log)(log_scale);
}

/* sigma[j] = the scale of log scale ls[j], j < n. */
SF_CLONES
static void SF_FN(scales_of_logs)(sf_index n, const SF_T *ls, SF_T *sigma)
{
    SF_SIMD
    for (sf_index j = 0; j < n; j++) sigma[j] = (SF_T)SF_FN(scale_of_log)(ls[j]);
}

/* x = loc + scale * z over n elements, and mirror = loc - scale * z if not
 * NULL; with is_log, scale holds log scales (see scale_of_log). */
SF_CLONES
static void SF_FN(affine_rows)(sf_index n, const SF_T *loc, const SF_T *scale,
                               const double *z, SF_T *x, SF_T *mirror, int is_log)
{
    if (is_log) {
        if (mirror) {
            SF_SIMD
            for (sf_index j = 0; j < n; j++) {
                double sigma = SF_FN(scale_of_log)(scale[j]);
                x[j] = (SF_T)((double)loc[j] + sigma * z[j]);
                mirror[j] = (SF_T)((double)loc[j] + sigma * -z[j]);
            }
        } else {
            SF_SIMD
            for (sf_index j = 0; j < n; j++)
                x[j] = (SF_T)((double)loc[j] + SF_FN(scale_of_log)(scale[j]) * z[j]);
        }
        return;
    }
    SF_SIMD
    for (sf_index j = 0; j < n; j++)
        x[j] = (SF_T)((double)loc[j] + (double)scale[j] * z[j]);
    if (mirror) {
        SF_SIMD
        for (sf_index j = 0; j < n; j++)
            mirror[j] = (SF_T)((double)loc[j] + (double)scale[j] * -z[j]);
    }
}

/* log(sigma) as the log-densities take it: in float for a float32 scale
 * (sf_logf, within one ulp of float, sixteen lanes to a vector), whose
 * value carries no more than float's precision; in double otherwise. */
SF_INLINE double SF_FN(log_scale)(SF_T sigma)
{
    if (sizeof(SF_T) == sizeof(float)) return (double)sf_logf((float)sigma);
    return sf_log((double)sigma);
}

/* log_prob of R rows of D from their standardised draws z, given each row's
 * constant: c[r % P] = sum_d log(scale[m, d]) + D log(2 pi) / 2 for row r
 * (the rows of several samples of P rows, one after another). */
SF_CLONES
static void SF_FN(rows_log_prob_z)(sf_index R, sf_index P, sf_index D, const double *c,
                                   const double *z, SF_T *log_prob)
{
    if (D == 1) {
        for (sf_index r0 = 0; r0 < R; r0 += P) {
            const double *zs = z + r0;
            SF_T *lp = log_prob + r0;
            SF_SIMD
            for (sf_index m = 0; m < P; m++) lp[m] = (SF_T)(-0.5 * zs[m] * zs[m] - c[m]);
        }
        return;
    }
    /* four rows to a pass, each summed as alone (its own reduction), so
     * that their chains of additions overlap */
    sf_index r = 0;
    for (; r + 4 <= R; r += 4) {
        const double *z0 = z + r * D, *z1 = z0 + D, *z2 = z1 + D, *z3 = z2 + D;
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
        _Pragma("omp simd reduction(+ : a0, a1, a2, a3)")
        for (sf_index d = 0; d < D; d++) {
            a0 += z0[d] * z0[d];
            a1 += z1[d] * z1[d];
            a2 += z2[d] * z2[d];
            a3 += z3[d] * z3[d];
        }
        log_prob[r] = (SF_T)(-0.5 * a0 - c[r % P]);
        log_prob[r + 1] = (SF_T)(-0.5 * a1 - c[(r + 1) % P]);
        log_prob[r + 2] = (SF_T)(-0.5 * a2 - c[(r + 2) % P]);
        log_prob[r + 3] = (SF_T)(-0.5 * a3 - c[(r + 3) % P]);
    }
    for (; r < R; r++) {
        double acc = 0.0;
        SF_SIMD_REDUCE(+, acc)
        for (sf_index d = 0; d < D; d++) acc += z[r * D + d] * z[r * D + d];
        log_prob[r] = (SF_T)(-0.5 * acc - c[r % P]);
    }
}

/* c[m] = sum_d log(scale[m, d]) + D log(2 pi) / 2, once per call (with
 * is_log, scale holds the logs themselves). */
SF_CLONES
static void SF_FN(rows_log_norm)(sf_index M, sf_index D, const SF_T *scale, double *c,
                                 int is_log)
{
    if (D == 1) {
        if (is_log) {
            SF_SIMD
            for (sf_index m = 0; m < M; m++) c[m] = (double)scale[m] + SF_LOG_SQRT_2PI;
            return;
        }
        SF_SIMD
        for (sf_index m = 0; m < M; m++) c[m] = SF_FN(log_scale)(scale[m]) + SF_LOG_SQRT_2PI;
        return;
    }
    for (sf_index m = 0; m < M; m++) {
        double acc = 0.0;
        if (is_log) {
            SF_SIMD_REDUCE(+, acc)
            for (sf_index d = 0; d < D; d++) acc += (double)scale[m * D + d];
        } else {
            SF_SIMD_REDUCE(+, acc)
            for (sf_index d = 0; d < D; d++) acc += SF_FN(log_scale)(scale[m * D + d]);
        }
        c[m] = acc + (double)D * SF_LOG_SQRT_2PI;
    }
}

/* 1 / sigma of a scale, and of a log scale (exp(-log_scale), no division). */
SF_INLINE double SF_FN(inv_of_scale)(SF_T sigma) { return 1.0 / (double)sigma; }
SF_INLINE double SF_FN(inv_of_log)(SF_T log_scale)
{
    return (double)SF_FN(exp_of_log)(-log_scale);
}

/* rows_reinforce for one sample of whole short rows (a policy's batch of
 * states of a few coordinates, one action each): each sum over samples is
 * its one term.  The rows' weights a and totals W are spread over their
 * coordinates first (into scratch, 2 nr D doubles), so that the rows are
 * one loop over all their elements: a row shorter than a vector would
 * otherwise go through the loop's scalar remainder (a policy batch of
 * 2^20 elements in rows of 4: 5.2 ms against 1.4 ms, float32).  Rows of
 * 16 coordinates or more, a vector of float or two of double, keep the
 * row loop, which spreading would slow by 10-20%.  The general path's
 * operations in its order (the same bits).  scratch: 2 nr D + 7 nr
 * doubles; zero: nr D zeros, or NULL. */
SF_CLONES
static void SF_FN(rows_reinforce_one)(sf_index M, sf_index D, sf_index m0, sf_index nr,
                                      const SF_T *loc, const SF_T *scale, const SF_T *x,
                                      const SF_T *rewards, int kind, double c, double eps,
                                      double ddof, double factor, SF_T *g_loc, SF_T *g_ls,
                                      const SF_T *zero, double *scratch, int is_log)
{
    sf_index len = nr * D;
    double *a_el = scratch, *w_el = scratch + len, *adv = w_el + len, *w_row = adv + nr;
    SF_FN(rows_advantages)(1, M, m0, nr, rewards, kind, c, eps, ddof, factor, adv, w_row,
                           w_row + nr);
    for (sf_index r = 0; r < nr; r++) {
        for (sf_index d = 0; d < D; d++) {
            a_el[r * D + d] = adv[r];
            w_el[r * D + d] = w_row[r];
        }
    }
    sf_index j0 = m0 * D;
    const SF_T *mu = loc + j0, *sigma = scale + j0, *xr = x + j0;
    SF_T *gl = g_loc + j0, *gs = g_ls + j0;
    const SF_T *gl0 = zero ? zero : gl, *gs0 = zero ? zero : gs;
    /* 1 / sigma: for a log scale, exp(-log_scale) (no division) */
#define SF_ROWS_ONE_SAMPLE(i_sigma_of)                                         \
    SF_SIMD                                                                    \
    for (sf_index j = 0; j < len; j++) {                                       \
        double i_sigma = i_sigma_of(sigma[j]);                                 \
        double z = ((double)xr[j] - (double)mu[j]) * i_sigma;                  \
        gl[j] = (SF_T)((double)gl0[j] + a_el[j] * z * i_sigma);                \
        gs[j] = (SF_T)((double)gs0[j] + (a_el[j] * z * z - w_el[j]));          \
    }
    if (is_log) {
        SF_ROWS_ONE_SAMPLE(SF_FN(inv_of_log))
    } else {
        SF_ROWS_ONE_SAMPLE(SF_FN(inv_of_scale))
    }
#undef SF_ROWS_ONE_SAMPLE
}

/* rows_reinforce for several samples of whole short rows (a batch of
 * states of a few coordinates, several actions each, or a Normal's
 * elements, rows of one): the rows' loops would run in their scalar
 * remainders, so the item's rows go as one run of len = nr D elements,
 * which each sample's draws of those rows are too.  The rows' advantages
 * are spread over their coordinates, four samples at a time (none to
 * spread for rows of one), and W likewise; then the general path's
 * operations in its order (the same bits).  scratch: 8 len + (S + 6) nr
 * doubles; zero: len zeros, or NULL. */
SF_CLONES
static void SF_FN(rows_reinforce_short)(sf_index S, sf_index M, sf_index D, sf_index m0,
                                        sf_index nr, const SF_T *loc, const SF_T *scale,
                                        const SF_T *x, const SF_T *rewards, int kind,
                                        double c, double eps, double ddof, double factor,
                                        SF_T *g_loc, SF_T *g_ls, const SF_T *zero,
                                        double *scratch, int is_log)
{
    sf_index len = nr * D, j0 = m0 * D, N = M * D;
    double *a_loc = scratch, *a_ls = a_loc + len, *inv = a_ls + len, *wt = inv + len;
    double *spread = wt + len, *adv = spread + 4 * len, *w_row = adv + S * nr;
    /* adv[s nr + r]: sample s's advantage of row m0 + r */
    SF_FN(rows_advantages)(S, M, m0, nr, rewards, kind, c, eps, ddof, factor, adv, w_row,
                           w_row + nr);
    for (sf_index r = 0; r < nr; r++)
        for (sf_index d = 0; d < D; d++) wt[r * D + d] = w_row[r];
    const SF_T *mu = loc + j0, *sigma = scale + j0;
    SF_SIMD
    for (sf_index j = 0; j < len; j++) a_loc[j] = a_ls[j] = 0.0;
    if (is_log) {
        SF_SIMD
        for (sf_index j = 0; j < len; j++) inv[j] = SF_FN(inv_of_log)(sigma[j]);
    } else {
        SF_SIMD
        for (sf_index j = 0; j < len; j++) inv[j] = SF_FN(inv_of_scale)(sigma[j]);
    }
    sf_index s = 0;
    for (; s + 4 <= S; s += 4) {
        /* the four samples' weights per element: adv's own rows for rows of one */
        const double *w0 = adv + s * nr, *w1 = w0 + nr, *w2 = w1 + nr, *w3 = w2 + nr;
        if (D > 1) {
            for (sf_index k = 0; k < 4; k++)
                for (sf_index r = 0; r < nr; r++)
                    for (sf_index d = 0; d < D; d++)
                        spread[k * len + r * D + d] = adv[(s + k) * nr + r];
            w0 = spread;
            w1 = w0 + len;
            w2 = w1 + len;
            w3 = w2 + len;
        }
        const SF_T *x0 = x + s * N + j0, *x1 = x0 + N, *x2 = x1 + N, *x3 = x2 + N;
        SF_SIMD
        for (sf_index j = 0; j < len; j++) {
            double md = (double)mu[j], iv = inv[j];
            double z0 = ((double)x0[j] - md) * iv, z1 = ((double)x1[j] - md) * iv;
            double z2 = ((double)x2[j] - md) * iv, z3 = ((double)x3[j] - md) * iv;
            double al = a_loc[j], as = a_ls[j];
            al += w0[j] * z0;
            as += w0[j] * z0 * z0;
            al += w1[j] * z1;
            as += w1[j] * z1 * z1;
            al += w2[j] * z2;
            as += w2[j] * z2 * z2;
            al += w3[j] * z3;
            as += w3[j] * z3 * z3;
            a_loc[j] = al;
            a_ls[j] = as;
        }
    }
    for (; s < S; s++) {
        const double *w = adv + s * nr;
        if (D > 1) {
            for (sf_index r = 0; r < nr; r++)
                for (sf_index d = 0; d < D; d++) spread[r * D + d] = adv[s * nr + r];
            w = spread;
        }
        const SF_T *xr = x + s * N + j0;
        SF_SIMD
        for (sf_index j = 0; j < len; j++) {
            double z = ((double)xr[j] - (double)mu[j]) * inv[j];
            a_loc[j] += w[j] * z;
            a_ls[j] += w[j] * z * z;
        }
    }
    /* sum_s w (z^2 - 1) = sum_s w z^2 - W */
    SF_T *gl = g_loc + j0, *gs = g_ls + j0;
    const SF_T *gl0 = zero ? zero : gl, *gs0 = zero ? zero : gs;
    SF_SIMD
    for (sf_index j = 0; j < len; j++) {
        gl[j] = (SF_T)((double)gl0[j] + a_loc[j] * inv[j]);
        gs[j] = (SF_T)((double)gs0[j] + (a_ls[j] - wt[j]));
    }
}

/* One work item of sf_gauss_reinforce: rows [m0, m0 + nr), coordinates
 * [d0, d0 + n) of each, over all S samples.  Per row: the advantages of
 * its rewards column, a_loc = sum_s a_s z_s and a_ls = sum_s a_s z_s^2 per
 * coordinate (samples in order, so the sums do not depend on how rows are
 * grouped into items), then g_loc += a_loc / sigma, g_log_scale += a_ls - W,
 * or, given zero (w zeros), g_loc = 0 + a_loc / sigma and g_log_scale = 0 +
 * (a_ls - W): the same values as added to zeros, without reading the
 * gradients.  One call per item, its loops inlined: a batch of many short
 * rows (a policy's states) pays no call per row and sample.  scratch: 3 w +
 * S doubles, w >= n, or for rows shorter than SF_SHORT_ROW 8 w + (S + 6)
 * nr, w >= nr D. */
SF_CLONES
static void SF_FN(rows_reinforce)(sf_index S, sf_index M, sf_index D, sf_index m0,
                                  sf_index nr, sf_index d0, sf_index n, const SF_T *loc,
                                  const SF_T *scale, const SF_T *x, const SF_T *rewards,
                                  int kind, double c, double eps, double ddof,
                                  double factor, SF_T *g_loc, SF_T *g_ls, sf_index w,
                                  const SF_T *zero, double *scratch, int is_log)
{
    double *a_loc = scratch, *a_ls = scratch + w, *inv = scratch + 2 * w;
    double *adv = scratch + 3 * w;
    if (S == 1 && n == D && D < SF_SHORT_ROW) {
        SF_FN(rows_reinforce_one)(M, D, m0, nr, loc, scale, x, rewards, kind, c, eps, ddof,
                                  factor, g_loc, g_ls, zero, scratch, is_log);
        return;
    }
    if (S > 1 && n == D && D < SF_SHORT_ROW) {
        SF_FN(rows_reinforce_short)(S, M, D, m0, nr, loc, scale, x, rewards, kind, c, eps,
                                    ddof, factor, g_loc, g_ls, zero, scratch, is_log);
        return;
    }
    if (S == 1) {
        /* one sample, a tile of a long row: the row is a single loop */
        for (sf_index m = m0; m < m0 + nr; m++) {
            const SF_T *mu = loc + m * D + d0, *sigma = scale + m * D + d0;
            const SF_T *xr = x + m * D + d0;
            SF_T *gl = g_loc + m * D + d0, *gs = g_ls + m * D + d0;
            double w_total = SF_FN(column_advantages)(1, M, m, rewards, kind, c, eps, ddof,
                                                      factor, adv);
            double a = adv[0];
            const SF_T *gl0 = zero ? zero : gl, *gs0 = zero ? zero : gs;
            /* 1 / sigma: for a log scale, exp(-log_scale) (no division) */
#define SF_ROW_ONE_SAMPLE(i_sigma_of)                                          \
            SF_SIMD                                                            \
            for (sf_index d = 0; d < n; d++) {                                 \
                double i_sigma = i_sigma_of(sigma[d]);                         \
                double z = ((double)xr[d] - (double)mu[d]) * i_sigma;          \
                gl[d] = (SF_T)((double)gl0[d] + a * z * i_sigma);              \
                gs[d] = (SF_T)((double)gs0[d] + (a * z * z - w_total));        \
            }
            if (is_log) {
                SF_ROW_ONE_SAMPLE(SF_FN(inv_of_log))
            } else {
                SF_ROW_ONE_SAMPLE(SF_FN(inv_of_scale))
            }
#undef SF_ROW_ONE_SAMPLE
        }
        return;
    }
    for (sf_index m = m0; m < m0 + nr; m++) {
        const SF_T *mu = loc + m * D + d0, *sigma = scale + m * D + d0;
        double w_total = SF_FN(column_advantages)(S, M, m, rewards, kind, c, eps, ddof,
                                                  factor, adv);
        SF_SIMD
        for (sf_index d = 0; d < n; d++) a_loc[d] = a_ls[d] = 0.0;
        if (is_log) {
            SF_SIMD
            for (sf_index d = 0; d < n; d++) inv[d] = SF_FN(inv_of_log)(sigma[d]);
        } else {
            SF_SIMD
            for (sf_index d = 0; d < n; d++) inv[d] = SF_FN(inv_of_scale)(sigma[d]);
        }
        /* samples outer, coordinates inner: x is read in memory order; four
         * samples to a pass, added in turn (the order of one at a time) to
         * sums held in registers, so that the sums are loaded and stored once
         * per four samples */
        sf_index s = 0;
        for (; s + 4 <= S; s += 4) {
            const SF_T *x0 = x + (s * M + m) * D + d0, *x1 = x0 + M * D;
            const SF_T *x2 = x1 + M * D, *x3 = x2 + M * D;
            double w0 = adv[s], w1 = adv[s + 1], w2 = adv[s + 2], w3 = adv[s + 3];
            SF_SIMD
            for (sf_index d = 0; d < n; d++) {
                double md = (double)mu[d], iv = inv[d];
                double z0 = ((double)x0[d] - md) * iv, z1 = ((double)x1[d] - md) * iv;
                double z2 = ((double)x2[d] - md) * iv, z3 = ((double)x3[d] - md) * iv;
                double al = a_loc[d], as = a_ls[d];
                al += w0 * z0;
                as += w0 * z0 * z0;
                al += w1 * z1;
                as += w1 * z1 * z1;
                al += w2 * z2;
                as += w2 * z2 * z2;
                al += w3 * z3;
                as += w3 * z3 * z3;
                a_loc[d] = al;
                a_ls[d] = as;
            }
        }
        for (; s < S; s++) {
            const SF_T *xr = x + (s * M + m) * D + d0;
            double w = adv[s];
            SF_SIMD
            for (sf_index d = 0; d < n; d++) {
                double z = ((double)xr[d] - (double)mu[d]) * inv[d];
                a_loc[d] += w * z;
                a_ls[d] += w * z * z;
            }
        }
        /* sum_s w (z^2 - 1) = sum_s w z^2 - W */
        SF_T *gl = g_loc + m * D + d0, *gs = g_ls + m * D + d0;
        const SF_T *gl0 = zero ? zero : gl, *gs0 = zero ? zero : gs;
        SF_SIMD
        for (sf_index d = 0; d < n; d++) {
            gl[d] = (SF_T)((double)gl0[d] + a_loc[d] * inv[d]);
            gs[d] = (SF_T)((double)gs0[d] + (a_ls[d] - w_total));
        }
    }
}

/* Work items [lo, hi) of sf_gauss_sample, with their own scratch.  Item t
 * is a chunk of nr rows of one sample (sample t / chunks, chunk t %
 * chunks), or, when the rows fit one chunk (chunks == 1), g whole samples
 * [t g, t g + g): their draws are consecutive in x and in the stream, so
 * they are drawn in one run, however short a sample is. */
static int SF_FN(sample_items)(sf_index lo, sf_index hi, sf_index M, sf_index D, sf_index nr,
                               sf_index chunks, sf_index g, sf_index rows, sf_index half,
                               const SF_T *loc, const SF_T *scale, int is_log, uint64_t key,
                               int antithetic, const double *c_all, int check, int stream,
                               SF_T *x, SF_T *log_prob)
{
    if (lo >= hi) return SF_OK;
    int bad = SF_OK;
    sf_index N = M * D;
    /* z, the chunk's log-normalisers, then idx and tail for the draws (each
     * with SF_TAIL_BLOCK more, for normals' padding and marks); with stream,
     * a chunk's draws (and their mirrors) are formed in x_tile, in cache,
     * and streamed out (sf_stream.h) */
    sf_index nz = nr * D, nt = nz + SF_TAIL_BLOCK;
    sf_index nw = (nz + SF_TAIL_BLOCK) / 2 + 2;
    double *z = (double *)malloc((size_t)(nz + nr + 1 + 2 * nt + nw) * sizeof(double) +
                                 (stream ? 2 * (size_t)nz * sizeof(SF_T) : 0));
    if (!z) return SF_ERR_NOMEM;
    double *c_chunk = z + nz;
    sf_index *idx = (sf_index *)(z + nz + nr + 1);
    double *tail = z + nz + nr + 1 + nt;
    uint64_t *words = (uint64_t *)(tail + nt);
    SF_T *x_tile = stream ? (SF_T *)(words + nw) : NULL;
    SF_T *mirror_tile = stream ? x_tile + nz : NULL;
    for (sf_index t = lo; t < hi; t++) {
        /* samples [s0, s0 + ns), rows [m0, m0 + n) of each */
        sf_index s0 = g > 1 ? t * g : t / chunks, ns = g > 1 ? (rows - s0 < g ? rows - s0 : g) : 1;
        sf_index m0 = g > 1 ? 0 : (t % chunks) * nr;
        sf_index n = M - m0 < nr ? M - m0 : nr;
        sf_index off = s0 * N + m0 * D;
        /* with check, the item's parameters (each in one item only) as they
         * come into cache: the status of the first invalid one, if any */
        if (check && !SF_FN(params_ok)(n * D, loc + m0 * D, scale + m0 * D, is_log)) {
            sf_index at;
            int which, st = SF_FN(check)(n * D, loc + m0 * D, scale + m0 * D, is_log, &at,
                                         &which);
            bad = st > bad ? st : bad;
        }
        SF_FN(normals)(ns * n * D, key, (uint64_t)off, z, idx, tail, words);
        const double *c = c_all ? c_all + m0 : c_chunk;
        if (log_prob && !c_all) SF_FN(rows_log_norm)(n, D, scale + m0 * D, c_chunk, is_log);
        for (sf_index k = 0; k < ns; k++) {
            sf_index at = off + k * N;
            SF_T *xk = x + at, *mk = antithetic ? x + half * N + at : NULL;
            SF_FN(affine_rows)(n * D, loc + m0 * D, scale + m0 * D, z + k * N,
                               stream ? x_tile : xk, mk && stream ? mirror_tile : mk, is_log);
            if (stream) {
                sf_stream_copy(xk, x_tile, (size_t)(n * D) * sizeof(SF_T));
                if (mk) sf_stream_copy(mk, mirror_tile, (size_t)(n * D) * sizeof(SF_T));
            }
        }
        if (log_prob) {
            /* the item's rows, one after another in z and in log_prob: one
             * sample's chunk, or whole samples (n = M) */
            SF_T *lp = log_prob + s0 * M + m0;
            SF_FN(rows_log_prob_z)(ns * n, n, D, c, z, lp);
            if (antithetic)
                for (sf_index r = 0; r < ns * n; r++) lp[half * M + r] = lp[r];
        }
    }
    if (stream) sf_stream_fence();
    free(z);
    return bad;
}

/* sf_gauss_sample and sf_gauss_sample_log_scale (is_log: scale holds log scales). */
static int SF_FN(sample)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                         const SF_T *scale, int is_log, uint64_t key, int antithetic, SF_T *x,
                         SF_T *log_prob, int n_threads)
{
    sf_index N = M * D;
    /* with antithetic, row s < S/2 is drawn and row s + S/2 is its mirror,
     * written in the same pass: the mirror's log-density is the same */
    sf_index rows = antithetic ? S / 2 : S, half = S / 2;
    /* work items: one sample's chunk of whole rows, about 4 SF_TILE draws
     * (at least one row), so the scratch stays in cache however many rows
     * a sample has and a single sample of many rows spreads over threads;
     * draws depend on their index only, so the chunking changes nothing */
    sf_index nr = D >= 4 * SF_TILE ? 1 : (4 * SF_TILE) / (D > 0 ? D : 1);
    sf_index chunks = (M + nr - 1) / nr;
    /* the rows' log-normalisers c (see rows_log_norm): once for all rows when
     * several samples share them, else chunk by chunk */
    double *c_all = NULL;
    int nomem = 0, bad = SF_OK;
    /* the parameters are checked as the draws go (see sample_items), or,
     * shared by several samples, once here; the outputs are written all
     * the same, an invalid parameter reported by its status */
    if (rows > 1 && !SF_FN(params_ok)(N, loc, scale, is_log)) {
        sf_index at;
        int which;
        bad = SF_FN(check)(N, loc, scale, is_log, &at, &which);
    }
    if (log_prob && rows > 1) {
        c_all = (double *)malloc((size_t)(M > 0 ? M : 1) * sizeof(double));
        if (!c_all) return SF_ERR_NOMEM;
        SF_FN(rows_log_norm)(M, D, scale, c_all, is_log);
    }
    /* log scales shared by several samples: their scales once, then the
     * scale path (one exp per parameter, not one per draw) */
    SF_T *sigma = NULL;
    if (is_log && rows > 1) {
        sigma = (SF_T *)malloc((size_t)(N > 0 ? N : 1) * sizeof(SF_T));
        if (!sigma) {
            free(c_all);
            return SF_ERR_NOMEM;
        }
        SF_FN(scales_of_logs)(N, scale, sigma);
        scale = sigma;
        is_log = 0;
    }
    /* samples per item when the rows fit one chunk: as many as fill one */
    sf_index g = chunks == 1 && M > 0 ? nr / M : 1;
    if (g < 1) g = 1;
    sf_index items = g > 1 ? (rows + g - 1) / g : rows * chunks;
    int check = rows == 1;
    /* draws past the caches are streamed out */
    int stream = sf_stream_wanted((size_t)(S * N) * sizeof(SF_T));
    if (n_threads <= 1 || S * N < SF_PARALLEL_MIN_WORK / 8) {
        int st = SF_FN(sample_items)(0, items, M, D, nr, chunks, g, rows, half, loc, scale,
                                     is_log, key, antithetic, c_all, check, stream, x,
                                     log_prob);
        nomem = st == SF_ERR_NOMEM;
        bad = st > bad ? st : bad;
    } else {
#pragma omp parallel num_threads(n_threads) reduction(| : nomem) reduction(max : bad)
        {
            sf_index lo, hi;
            sf_thread_range(items, &lo, &hi);
            int st = SF_FN(sample_items)(lo, hi, M, D, nr, chunks, g, rows, half, loc, scale,
                                         is_log, key, antithetic, c_all, check, stream, x,
                                         log_prob);
            nomem |= st == SF_ERR_NOMEM;
            bad = st > bad ? st : bad;
        }
    }
    free(c_all);
    free(sigma);
    return nomem ? SF_ERR_NOMEM : bad;
}

int SF_FN(sf_gauss_sample)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                           const SF_T *scale, uint64_t key, int antithetic, SF_T *x,
                           SF_T *log_prob, int n_threads)
{
    return SF_FN(sample)(S, M, D, loc, scale, 0, key, antithetic, x, log_prob, n_threads);
}

int SF_FN(sf_gauss_sample_log_scale)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                                     const SF_T *log_scale, uint64_t key, int antithetic,
                                     SF_T *x, SF_T *log_prob, int n_threads)
{
    return SF_FN(sample)(S, M, D, loc, log_scale, 1, key, antithetic, x, log_prob, n_threads);
}

/* log_prob of one sample's M rows of D (x, loc, scale all (M, D)). */
SF_CLONES
static void SF_FN(rows_log_prob)(sf_index M, sf_index D, const SF_T *loc,
                                 const SF_T *scale, const SF_T *x, SF_T *log_prob)
{
    if (D == 1) {
        SF_SIMD
        for (sf_index m = 0; m < M; m++) {
            double sigma = (double)scale[m];
            double z = ((double)x[m] - (double)loc[m]) / sigma;
            log_prob[m] = (SF_T)(-0.5 * z * z - SF_FN(log_scale)(scale[m]) - SF_LOG_SQRT_2PI);
        }
        return;
    }
    for (sf_index m = 0; m < M; m++) {
        const SF_T *mu = loc + m * D, *sigma = scale + m * D, *xr = x + m * D;
        double acc = 0.0;
        SF_SIMD_REDUCE(+, acc)
        for (sf_index d = 0; d < D; d++) {
            double z = ((double)xr[d] - (double)mu[d]) / (double)sigma[d];
            acc += -0.5 * z * z - SF_FN(log_scale)(sigma[d]);
        }
        log_prob[m] = (SF_T)(acc - (double)D * SF_LOG_SQRT_2PI);
    }
}

int SF_FN(sf_gauss_log_prob)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                             const SF_T *scale, const SF_T *x, SF_T *log_prob,
                             int n_threads)
{
    /* blocks of rows of one sample, so that a single sample of many rows
     * (one draw per state of a policy batch) still spreads over threads */
    sf_index block = 4 * SF_TILE, blocks = (M + block - 1) / block;
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && S * M * D >= SF_PARALLEL_MIN_WORK)
    for (sf_index t = 0; t < S * blocks; t++) {
        sf_index s = t / blocks, m0 = (t % blocks) * block;
        sf_index n = M - m0 < block ? M - m0 : block;
        SF_FN(rows_log_prob)(n, D, loc + m0 * D, scale + m0 * D,
                             x + (s * M + m0) * D, log_prob + s * M + m0);
    }
    return SF_OK;
}

int SF_FN(sf_gauss_entropy)(sf_index M, sf_index D, const SF_T *scale, SF_T *entropy)
{
    for (sf_index m = 0; m < M; m++) {
        double acc = 0.0;
        for (sf_index d = 0; d < D; d++)
            acc += 0.5 + SF_LOG_SQRT_2PI + log((double)scale[m * D + d]);
        entropy[m] = (SF_T)acc;
    }
    return SF_OK;
}

int SF_FN(sf_gauss_score)(sf_index S, sf_index N, const SF_T *loc, const SF_T *scale,
                          const SF_T *x, SF_T *score_loc, SF_T *score_log_scale,
                          int n_threads)
{
    (void)n_threads;
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && S * N >= SF_PARALLEL_MIN_WORK)
    for (sf_index s = 0; s < S; s++) {
        for (sf_index j = 0; j < N; j++) {
            double sigma = (double)scale[j];
            double z = ((double)x[s * N + j] - (double)loc[j]) / sigma;
            score_loc[s * N + j] = (SF_T)(z / sigma);
            score_log_scale[s * N + j] = (SF_T)(z * z - 1.0);
        }
    }
    return SF_OK;
}

/* Work items [lo, hi) of sf_gauss_reinforce, with their own scratch. */
static int SF_FN(reinforce_items)(sf_index lo, sf_index hi, sf_index S, sf_index M,
                                  sf_index D, sf_index w, sf_index tiles, sf_index nr,
                                  sf_index ws, const SF_T *loc, const SF_T *scale,
                                  const SF_T *x, const SF_T *rewards, int kind, double c,
                                  double eps, double ddof, double factor, SF_T *g_loc,
                                  SF_T *g_log_scale, int fresh, int is_log)
{
    if (lo >= hi) return SF_OK;
    /* rows_reinforce's scratch (rows_reinforce_short's for short rows),
     * then with fresh the ws zeros the gradients are written as added to */
    size_t used = D < SF_SHORT_ROW ? 8 * (size_t)ws + ((size_t)S + 6) * (size_t)nr + S + 1
                                   : 3 * (size_t)ws + (size_t)S + 1;
    double *scratch = (double *)malloc((used + (fresh ? (size_t)ws : 0)) * sizeof(double));
    if (!scratch) return SF_ERR_NOMEM;
    SF_T *zero = NULL;
    if (fresh) {
        zero = (SF_T *)(scratch + used);
        memset(zero, 0, (size_t)ws * sizeof(SF_T));
    }
    for (sf_index t = lo; t < hi; t++) {
        sf_index m0, rows, d0, n;
        if (D >= SF_TILE) {
            m0 = t / tiles;
            rows = 1;
            d0 = (t % tiles) * w;
            n = D - d0 < w ? D - d0 : w;
        } else {
            m0 = t * nr;
            rows = M - m0 < nr ? M - m0 : nr;
            d0 = 0;
            n = D;
        }
        SF_FN(rows_reinforce)(S, M, D, m0, rows, d0, n, loc, scale, x, rewards, kind, c, eps,
                              ddof, factor, g_loc, g_log_scale, ws, zero, scratch, is_log);
    }
    free(scratch);
    return SF_OK;
}

static int SF_FN(reinforce)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                            const SF_T *scale, const SF_T *x, const SF_T *rewards, int kind,
                            double c, double eps, double ddof, double factor, SF_T *g_loc,
                            SF_T *g_log_scale, int fresh, int is_log, int n_threads)
{
    int nomem = 0;
    /* work items: a tile of w coordinates of one row, or, for rows shorter
     * than SF_TILE, a block of whole rows of about SF_TILE coordinates.  A
     * tile is as wide as it can be (up to SF_WIDE, so its sums stay in
     * cache) while leaving a few items per thread: x is then read in long
     * runs, and a single row (a DiagNormal's batch of one) still spreads
     * over the threads.  Each coordinate's sum over samples runs in order
     * within one item, so the result depends on neither the tile width nor
     * the thread count. */
    sf_index w = D < SF_WIDE ? D : SF_WIDE;
    while (w > SF_TILE && M * ((D + w - 1) / w) < 4 * (sf_index)n_threads)
        w = (w + 1) / 2;
    if (w < SF_TILE) w = D < SF_TILE ? D : SF_TILE;
    sf_index tiles = D >= SF_TILE ? (D + w - 1) / w : 1;
    sf_index nr = D >= SF_TILE ? 1 : SF_TILE / (D > 0 ? D : 1);
    sf_index items = D >= SF_TILE ? M * tiles : (M + nr - 1) / nr;
    sf_index ws = D >= SF_TILE ? w : SF_TILE;
    if (n_threads <= 1 || S * M * D < SF_PARALLEL_MIN_WORK)
        return SF_FN(reinforce_items)(0, items, S, M, D, w, tiles, nr, ws, loc, scale, x,
                                      rewards, kind, c, eps, ddof, factor, g_loc,
                                      g_log_scale, fresh, is_log);
#pragma omp parallel num_threads(n_threads) reduction(| : nomem)
    {
        sf_index lo, hi;
        sf_thread_range(items, &lo, &hi);
        nomem |= SF_FN(reinforce_items)(lo, hi, S, M, D, w, tiles, nr, ws, loc, scale, x,
                                        rewards, kind, c, eps, ddof, factor, g_loc,
                                        g_log_scale, fresh, is_log) != SF_OK;
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

int SF_FN(sf_gauss_reinforce)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                              const SF_T *scale, const SF_T *x, const SF_T *rewards,
                              int kind, double c, double eps, double ddof,
                              double factor, SF_T *g_loc, SF_T *g_log_scale,
                              int n_threads)
{
    return SF_FN(reinforce)(S, M, D, loc, scale, x, rewards, kind, c, eps, ddof, factor, g_loc,
                            g_log_scale, 0, 0, n_threads);
}

int SF_FN(sf_gauss_reinforce_fresh)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                                    const SF_T *scale, const SF_T *x, const SF_T *rewards,
                                    int kind, double c, double eps, double ddof,
                                    double factor, SF_T *g_loc, SF_T *g_log_scale,
                                    int n_threads)
{
    return SF_FN(reinforce)(S, M, D, loc, scale, x, rewards, kind, c, eps, ddof, factor, g_loc,
                            g_log_scale, 1, 0, n_threads);
}

int SF_FN(sf_gauss_reinforce_log_scale)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                                        const SF_T *log_scale, const SF_T *x,
                                        const SF_T *rewards, int kind, double c, double eps,
                                        double ddof, double factor, SF_T *g_loc,
                                        SF_T *g_log_scale, int n_threads)
{
    return SF_FN(reinforce)(S, M, D, loc, log_scale, x, rewards, kind, c, eps, ddof, factor,
                            g_loc, g_log_scale, 0, 1, n_threads);
}

int SF_FN(sf_gauss_reinforce_fresh_log_scale)(sf_index S, sf_index M, sf_index D,
                                              const SF_T *loc, const SF_T *log_scale,
                                              const SF_T *x, const SF_T *rewards, int kind,
                                              double c, double eps, double ddof,
                                              double factor, SF_T *g_loc, SF_T *g_log_scale,
                                              int n_threads)
{
    return SF_FN(reinforce)(S, M, D, loc, log_scale, x, rewards, kind, c, eps, ddof, factor,
                            g_loc, g_log_scale, 1, 1, n_threads);
}

int SF_FN(sf_gauss_weighted_score)(sf_index S, sf_index M, sf_index D,
                                   const SF_T *loc, const SF_T *scale, const SF_T *x,
                                   const SF_T *weights, SF_T *g_loc, SF_T *g_log_scale,
                                   int n_threads)
{
    return SF_FN(sf_gauss_reinforce)(S, M, D, loc, scale, x, weights, SF_BASE_NONE, 0.0,
                                     0.0, 0.0, 1.0, g_loc, g_log_scale, n_threads);
}

int SF_FN(sf_gauss_pathwise)(sf_index S, sf_index M, sf_index D, const SF_T *loc,
                             const SF_T *x, const SF_T *grad_f, SF_T *g_loc,
                             SF_T *g_log_scale, int n_threads)
{
    int nomem = 0;
    sf_index tiles = (D + SF_TILE - 1) / SF_TILE;
    (void)n_threads;
    /* tiles of coordinates, as in sf_gauss_reinforce */
#pragma omp parallel num_threads(n_threads) reduction(| : nomem) \
    if (n_threads > 1 && S * M * D >= SF_PARALLEL_MIN_WORK)
    {
        double *acc = (double *)malloc(2 * (size_t)SF_TILE * sizeof(double));
        if (!acc) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index t = 0; t < M * tiles; t++) {
            if (!acc) continue;
            sf_index m = t / tiles, d0 = (t % tiles) * SF_TILE;
            sf_index n = D - d0 < SF_TILE ? D - d0 : SF_TILE;
            const SF_T *mu = loc + m * D + d0;
            double *a_loc = acc, *a_ls = acc + SF_TILE;
            for (sf_index d = 0; d < n; d++) a_loc[d] = a_ls[d] = 0.0;
            for (sf_index s = 0; s < S; s++) {
                const SF_T *xr = x + (s * M + m) * D + d0, *gr = grad_f + (s * M + m) * D + d0;
                for (sf_index d = 0; d < n; d++) {
                    /* x = loc + scale * eps, so dx/dlog(scale) = x - loc */
                    a_loc[d] += (double)gr[d];
                    a_ls[d] += (double)gr[d] * ((double)xr[d] - (double)mu[d]);
                }
            }
            for (sf_index d = 0; d < n; d++) {
                g_loc[m * D + d0 + d] = (SF_T)((double)g_loc[m * D + d0 + d] + a_loc[d]);
                g_log_scale[m * D + d0 + d] = (SF_T)((double)g_log_scale[m * D + d0 + d] + a_ls[d]);
            }
        }
        free(acc);
    }
    return nomem ? SF_ERR_NOMEM : SF_OK;
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
