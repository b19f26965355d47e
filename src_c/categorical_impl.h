/*
 * Categorical kernels, written once over the element type.
 *
 * Included by categorical.c with SF_T (float or double) and SF_SUF (f or d)
 * defined; see categorical.h for what each kernel computes.
 *
 * Point functions work on one row and carry SF_CLONES, so their simple
 * loops are vectorised for the widest SIMD the machine has; the exported
 * kernels loop over rows, in parallel with OpenMP.  All arithmetic is in
 * double, whatever SF_T is, but for the exponentials of a float32 row in
 * the sampler and its normaliser (row_exp).
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* log p_k of a row from its normaliser nm = (max, log sum exp(l - max)).
 * Subtracting the two parts separately keeps log p exact for logits so
 * large that max + log sum would round the sum away. */
SF_INLINE double SF_FN(row_logp)(const SF_T *l, sf_index k, const double *nm)
{
    return ((double)l[k] - nm[0]) - nm[1];
}

/* exp(l - m) for a logit l of a row and the row's maximum m (both values of
 * SF_T, so l - m <= 0), as the sampler and the normaliser compute it: in
 * double for a float64 row, in float for a float32 row (sf_expf_nonpos,
 * within one ulp of float, sixteen lanes to a vector where double has eight),
 * since its logits carry no more than float's precision.  The sums over a
 * row are in double either way. */
SF_INLINE double SF_FN(row_exp)(double l, double m)
{
    if (sizeof(SF_T) == sizeof(float)) return (double)sf_expf_nonpos((float)l - (float)m);
    return sf_exp_nonpos(l - m);
}

#ifndef SF_ROW_HELPERS
#define SF_ROW_HELPERS
/* The status of a row from its maximum m and whether it holds a NaN: NaN,
 * +inf and a row of -inf only are errors; -inf entries (masked classes)
 * are allowed. */
static inline int sf_row_status(int has_nan, double m)
{
    return has_nan ? SF_ERR_NAN : m == INFINITY ? SF_ERR_POSINF
           : m == -INFINITY ? SF_ERR_ALL_MASKED : SF_OK;
}

/* The last of n classes with a weight (e[k * stride] > 0), 0 if none: the
 * class drawn when rounding puts u * total past the running sums. */
static inline sf_index sf_last_weighted(sf_index n, const double *e, sf_index stride)
{
    sf_index k = n - 1;
    while (k > 0 && !(e[k * stride] > 0.0)) k--;
    return k > 0 ? k : 0;
}
#endif

/* The maximum of n logits into *m and whether one is NaN into *has_nan,
 * each combined with what they held (exact: the order does not matter).
 * In the logits' type: float32 ones are compared as floats, sixteen to a
 * vector, not converted to double one by one (row_max_f at C1 vocab: the
 * conversions had made it compute-bound). */
SF_INLINE void SF_FN(span_max)(sf_index n, const SF_T *l, double *m, int *has_nan)
{
    SF_T mx = (SF_T)-INFINITY;
    int nan = 0;
    SF_SIMD_REDUCE2(max, mx, |, nan)
    for (sf_index k = 0; k < n; k++) {
        SF_T x = l[k];
        nan |= (x != x);
        mx = x > mx ? x : mx;
    }
    *m = (double)mx > *m ? (double)mx : *m;
    *has_nan |= nan;
}

#ifndef SF_ROW_START
#define SF_ROW_START
/* A row's normaliser begun from its maximum m and NaN flag: nm[0] = m, or
 * NaN for an invalid row (sf_row_status, returned); nm[1], the log-sum, is
 * left for later. */
static inline int sf_row_start(double m, int has_nan, double *nm)
{
    int status = sf_row_status(has_nan, m);
    nm[0] = status ? NAN : m;
    nm[1] = NAN;
    return status;
}
#endif

/* The row's maximum into nm[0] (sf_row_start), copying the row to dst if
 * dst is not NULL. */
SF_CLONES
static int SF_FN(row_max)(sf_index K, const SF_T *l, SF_T *dst, double *nm)
{
    double m = -INFINITY;
    int has_nan = 0;
    if (dst) {
        SF_SIMD
        for (sf_index k = 0; k < K; k++) dst[k] = l[k];
    }
    SF_FN(span_max)(K, l, &m, &has_nan);
    return sf_row_start(m, has_nan, nm);
}

/* e[k] = exp(l_k - m), and (returned) their total, summed the one way
 * every kernel sums a row, so that the log-sum is the same whichever kernel
 * computes it, in three levels: sub-blocks of SF_SUB classes summed as a
 * tree; within each super-block of SF_SUPER sub-blocks, the running total of
 * its sub-block sums (cum[j], at the end of sub-block j); across
 * super-blocks, the running total at the end of each (sup[q]).  The sampler
 * searches these; no running sum is longer than max(SF_SUPER, K / (SF_SUB *
 * SF_SUPER)) terms, which keeps the total accurate for a million classes.
 * cum and sup have room for sf_sub_count(K) and sf_super_count(K) doubles. */
#ifndef SF_SUB
#define SF_SUB 8
#define SF_SUPER 64
static inline sf_index sf_sub_count(sf_index K) { return (K + SF_SUB - 1) / SF_SUB; }
static inline sf_index sf_super_count(sf_index K)
{
    return (sf_sub_count(K) + SF_SUPER - 1) / SF_SUPER;
}
/* How many of a sub-block's running sums a[0..7], nondecreasing, are at
 * most t: a branch-free binary search of four steps (the fourth reads a[7]
 * only when a[0..6] are all at most t). */
static inline sf_index sf_sub_count_le(const double *a, double t)
{
    sf_index c = (a[3] <= t) * 4;
    c += (a[c + 1] <= t) * 2;
    c += a[c] <= t;
    c += a[c] <= t;
    return c;
}
#endif
/* Rows of up to SF_LONG_BLOCK / 2 classes (padded to whole sub-blocks) are
 * sampled SF_LONG_BLOCK / K at a time (long_rows_sample); longer ones are
 * worked on one at a time, and row_exp_cum fetches the next one into cache,
 * SF_PREFETCH_CHUNK classes' share at a time, while it works on the
 * current one. */
#ifndef SF_LONG_BLOCK
#define SF_LONG_BLOCK 512
#define SF_PREFETCH_CHUNK 64
static inline int sf_row_alone(sf_index K)
{
    return 2 * sf_sub_count(K) * SF_SUB > SF_LONG_BLOCK;
}
#endif
/* The classes of a row whose exponentials row_exp_sub takes before their
 * sub-block sums: 4 KB of doubles, which stay in L1 in between. */
#ifndef SF_EXP_CHUNK
#define SF_EXP_CHUNK 512
#endif
/* Classes [lo, min(hi, K)) of a row of K fetched into cache. */
SF_INLINE void SF_FN(prefetch_share)(const SF_T *row, sf_index lo, sf_index hi, sf_index K)
{
    for (const char *p = (const char *)(row + lo); p < (const char *)(row + (hi < K ? hi : K));
         p += 64)
        __builtin_prefetch(p, 0, 3);
}
#ifndef SF_SUB_SUMS
#define SF_SUB_SUMS
/* cum[j] = the sum of sub-block j of e, j in [j0, j1): independent of one
 * another (vectorised across sub-blocks), whole groups of eight by
 * sf_sub_sums_avx512 where it runs. */
SF_INLINE void sf_sub_sums(sf_index j0, sf_index j1, const double *e, double *cum)
{
#ifdef SF_MASK_COUNTS
    if (j1 - j0 >= 8 && sf_mask_counts()) {
        sf_index n8 = (j1 - j0) / 8;
        sf_sub_sums_avx512(n8, e + j0 * SF_SUB, cum + j0);
        j0 += 8 * n8;
    }
#endif
    SF_SIMD
    for (sf_index j = j0; j < j1; j++) {
        const double *x = e + j * SF_SUB;
        cum[j] = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
    }
}
#endif

/* e[k] = exp(l_k - m) for k in [k0, k1), and with zero, zero[k] = 0 in the
 * same loop: a store beside each exponential's arithmetic (a loop of its
 * own becomes a call to memset, which waits for nothing to overlap it: C1
 * vocab's float64 sampler 1.1x the time). */
SF_INLINE void SF_FN(span_exp)(sf_index k0, sf_index k1, const SF_T *l, double m, double *e,
                               SF_T *zero)
{
    if (zero) {
        SF_SIMD
        for (sf_index k = k0; k < k1; k++) {
            e[k] = SF_FN(row_exp)((double)l[k], m);
            zero[k] = (SF_T)0;
        }
    } else {
        SF_SIMD
        for (sf_index k = k0; k < k1; k++) e[k] = SF_FN(row_exp)((double)l[k], m);
    }
}

/* row_exp_cum's first part: e[k] = exp(l_k - m) and the sub-block sums
 * into cum[j], SF_EXP_CHUNK classes at a time, each chunk's sums taken
 * while its exponentials are in L1 (a long row's whole e would be read
 * back from L2).  Given the next row (next), its logits are read from
 * memory meanwhile: with next_nm, its maximum found (sf_row_start into
 * next_nm, the status returned), the pass that row_max would make over it
 * from cache saved; else fetched into cache.  Without next, 0.  With zero,
 * K elements of a gradient to come are zeroed chunk by chunk beside the
 * exponentials, whose arithmetic leaves the store ports idle. */
SF_CLONES
static int SF_FN(row_exp_sub)(sf_index K, const SF_T *l, double m, double *e, double *cum,
                              const SF_T *next, double *next_nm, SF_T *zero)
{
    sf_index full = K / SF_SUB, nsub = sf_sub_count(K);
    double next_m = -INFINITY;
    int next_nan = 0;
    if (!next && K <= SF_EXP_CHUNK) {
        /* a short row, as a block of them has it: one chunk */
        SF_FN(span_exp)(0, K, l, m, e, zero);
        sf_sub_sums(0, full, e, cum);
    }
    /* longer rows, or with next, chunk by chunk */
    for (sf_index c0 = 0; c0 < K && (next || K > SF_EXP_CHUNK); c0 += SF_EXP_CHUNK) {
        sf_index c1 = K - c0 < SF_EXP_CHUNK ? K : c0 + SF_EXP_CHUNK;
        if (next) {
            /* the next row's share after each SF_PREFETCH_CHUNK classes, so
             * that its reading from memory overlaps with this arithmetic */
            for (sf_index k0 = c0; k0 < c1; k0 += SF_PREFETCH_CHUNK) {
                sf_index k1 = c1 - k0 < SF_PREFETCH_CHUNK ? c1 : k0 + SF_PREFETCH_CHUNK;
                SF_FN(span_exp)(k0, k1, l, m, e, zero);
                /* with next_nm, fetched a chunk ahead of the chunk whose
                 * maximum is taken (the first chunk's during the first) */
                sf_index ahead = next_nm ? SF_EXP_CHUNK : 0;
                SF_FN(prefetch_share)(next, k0 + ahead, k1 + ahead, K);
                if (ahead && c0 == 0) SF_FN(prefetch_share)(next, k0, k1, K);
            }
            /* one reduction a chunk: each ends in a chain of shuffles */
            if (next_nm) SF_FN(span_max)(c1 - c0, next + c0, &next_m, &next_nan);
        } else {
            SF_FN(span_exp)(c0, c1, l, m, e, zero);
        }
        sf_sub_sums(c0 / SF_SUB, c1 / SF_SUB < full ? c1 / SF_SUB : full, e, cum);
    }
    if (full < nsub) {
        double t = 0.0;
        for (sf_index k = full * SF_SUB; k < K; k++) t += e[k];
        cum[full] = t;
    }
    return next && next_nm ? sf_row_start(next_m, next_nan, next_nm) : SF_OK;
}

/* row_exp_cum's second part: the running totals of the sub-block sums in
 * cum (within each super-block) and across super-blocks (sup), returning
 * the row's total.  Apart from row_exp_sub, so that a block of short rows
 * reads its sub-block sums back only once their vector stores are done
 * (read at once, each scalar load waits for the vector store it overlaps). */
#ifndef SF_ROW_CUM
#define SF_ROW_CUM
static double sf_row_cum(sf_index K, double *cum, double *sup)
{
    sf_index nsub = sf_sub_count(K);
    double total = 0.0;
    for (sf_index q = 0, lo = 0; lo < nsub; q++, lo += SF_SUPER) {
        sf_index hi = lo + SF_SUPER < nsub ? lo + SF_SUPER : nsub;
        double acc = 0.0;
        for (sf_index j = lo; j < hi; j++) {
            acc += cum[j];
            cum[j] = acc;
        }
        total += acc;
        sup[q] = total;
    }
    return total;
}
#endif

SF_CLONES
static double SF_FN(row_exp_cum)(sf_index K, const SF_T *l, double m, double *e,
                                 double *cum, double *sup, const SF_T *next)
{
    SF_FN(row_exp_sub)(K, l, m, e, cum, next, NULL, NULL);
    return sf_row_cum(K, cum, sup);
}

SF_CLONES
static double SF_FN(row_entropy)(sf_index K, const SF_T *l, const double *nm)
{
    double h = 0.0;
    SF_SIMD_REDUCE(+, h)
    for (sf_index k = 0; k < K; k++) {
        double logp = ((double)l[k] - nm[0]) - nm[1];
        double p = sf_exp_nonpos(logp);
        h += p == 0.0 ? 0.0 : -p * logp;    /* a masked class adds 0; NaN propagates */
    }
    return h;
}

SF_CLONES
static void SF_FN(row_probs)(sf_index K, const SF_T *l, const double *nm, SF_T *p)
{
    SF_SIMD
    for (sf_index k = 0; k < K; k++) p[k] = (SF_T)sf_exp_nonpos(((double)l[k] - nm[0]) - nm[1]);
}

/* g[k] += -W p_k: the part of a weighted score that every sample shares. */
SF_CLONES
static void SF_FN(row_axpy_probs)(sf_index K, const SF_T *l, const double *nm,
                                  double w_total, SF_T *g)
{
    SF_SIMD
    for (sf_index k = 0; k < K; k++)
        g[k] = (SF_T)((double)g[k] - w_total * sf_exp_nonpos(((double)l[k] - nm[0]) - nm[1]));
}

#ifndef SF_FIRST_ABOVE
#define SF_FIRST_ABOVE
/* The index of the first of the n non-decreasing values base + v[0..n) that
 * exceeds t (n if none): a count of those at or below t for a short run
 * (no data-dependent branch; the compiler vectorises it), a binary search
 * for a long one. */
static inline sf_index sf_first_above(sf_index n, const double *v, double base, double t)
{
    sf_index j = 0;
    if (n <= 64) {
        for (sf_index q = 0; q < n; q++) j += base + v[q] <= t;
        return j;
    }
    sf_index hi = n;
    while (j < hi) {
        sf_index mid = j + (hi - j) / 2;
        if (base + v[mid] > t) hi = mid; else j = mid + 1;
    }
    return j;
}

/* The first k of the n classes e[0..n) at which acc + e[0] + ... + e[k],
 * summed in that order, exceeds t (n if none), counted without a branch
 * on the data: the running sums never decrease, so the count of those at
 * or below t is that index.  A full sub-block has a fixed length, which
 * the compiler unrolls. */
static inline sf_index sf_scan_above(sf_index n, const double *e, double acc, double t)
{
    sf_index c = 0;
    if (n == SF_SUB) {
        for (sf_index k = 0; k < SF_SUB; k++) {
            acc += e[k];
            c += acc <= t;
        }
        return c;
    }
    for (sf_index k = 0; k < n; k++) {
        acc += e[k];
        c += acc <= t;
    }
    return c;
}
#endif

/* The class whose interval of the cumulative weights holds t in [0, total)
 * (e, cum and sup as row_exp_cum leaves them): the super-block, then the
 * sub-block whose running total first exceeds t, then the first class k of
 * it at which the running total, continued class by class, exceeds t.
 * Such a class has e[k] > 0, so a masked class is never drawn; where
 * rounding puts t past the last running total, the last class with e[k] > 0
 * is drawn. */
static inline sf_index SF_FN(row_invert)(sf_index K, const double *e, const double *cum,
                                         const double *sup, double t)
{
    sf_index nsub = sf_sub_count(K);
    sf_index q = sf_first_above(sf_super_count(K), sup, 0.0, t);
    if (q * SF_SUPER < nsub) {
        double base = q ? sup[q - 1] : 0.0;
        sf_index first = q * SF_SUPER;
        sf_index n = first + SF_SUPER < nsub ? SF_SUPER : nsub - first;
        sf_index j = first + sf_first_above(n, cum + first, base, t);
        if (j < first + n) {
            sf_index lo = j * SF_SUB, hi = lo + SF_SUB < K ? lo + SF_SUB : K;
            double acc = base + (j > first ? cum[j - 1] : 0.0);
            sf_index k = lo + sf_scan_above(hi - lo, e + lo, acc, t);
            if (k < hi) return k;
            /* the sum in class order rounded below the sub-block's tree sum */
            return lo + sf_last_weighted(hi - lo, e + lo, 1);
        }
    }
    return sf_last_weighted(K, e, 1);
}

/* row_draws_one_super's draws over running sums formed for the whole row,
 * with AVX-512 (where categorical.c defines SF_MASK_COUNTS, and
 * sf_mask_counts() says so at run time): each of its two counts is the population
 * count of a mask of vector comparisons (eight sub-block totals, or a
 * sub-block's eight running sums, against t), so that a draw is a few
 * instructions with no chain of dependent loads.  The counts are those of
 * the portable loop (the running sums of a sub-block never decrease), so the
 * draws are the same. */
#ifdef SF_MASK_COUNTS
__attribute__((target("avx512f,popcnt")))
static void SF_FN(row_draws_masks)(sf_index K, sf_index S, sf_index stride, const double *e,
                                   const double *cum, const double *sup, double total,
                                   const double *run, const double *u, int64_t *value)
{
    sf_index nsub = sf_sub_count(K), nfull = nsub / 8 * 8;
    __mmask8 rest = (__mmask8)((1u << (nsub - nfull)) - 1u);
    for (sf_index s = 0; s < S; s++) {
        double t = u[s * stride] * total;
        __m512d tv = _mm512_set1_pd(t);
        sf_index j = 0, k = -1;
        for (sf_index q = 0; q < nfull; q += 8)
            j += __builtin_popcount(_mm512_cmp_pd_mask(_mm512_loadu_pd(cum + q), tv,
                                                       _CMP_LE_OQ));
        if (rest)
            j += __builtin_popcount(_mm512_mask_cmp_pd_mask(
                rest, _mm512_maskz_loadu_pd(rest, cum + nfull), tv, _CMP_LE_OQ));
        if (j < nsub) {
            sf_index lo = j * SF_SUB, hi = lo + SF_SUB < K ? lo + SF_SUB : K;
            sf_index c = __builtin_popcount(
                _mm512_cmp_pd_mask(_mm512_loadu_pd(run + lo), tv, _CMP_LE_OQ));
            if (lo + c < hi) k = lo + c;
        }
        value[s * stride] = (int64_t)(k >= 0 ? k : SF_FN(row_invert)(K, e, cum, sup, t));
    }
}
#endif

/* Draws of a row of one super-block (K <= SF_SUB * SF_SUPER, so sup[0] is
 * the last of cum), each by two counts without a branch on the data: of the
 * sub-block totals at or below t, then of its sub-block's running sums at or
 * below t.  The running sums are those row_invert forms for a draw,
 * cum[j - 1] + e[lo] + ... + e[k] class by class; when the draws are many
 * for the row's length (S * SF_SUB >= K) they are formed once for the row,
 * into run, else once per draw.  e must be readable, and zero, up to the
 * next multiple of SF_SUB, and cum[-1] must be 0.  The rare draw the counts
 * leave open (t at or past a sub-block's tree sum, or past the total) goes
 * to row_invert itself. */
SF_CLONES
static void SF_FN(row_draws_one_super)(sf_index K, sf_index S, sf_index stride,
                                       const double *e, const double *cum,
                                       const double *sup, double total, double *run,
                                       const double *u, int64_t *value)
{
    sf_index nsub = sf_sub_count(K);
    int whole_row = S * SF_SUB >= K;
    if (whole_row) {
        for (sf_index j = 0; j < nsub; j++) {
            double acc = cum[j - 1];
            for (sf_index k = 0; k < SF_SUB; k++) {
                acc += e[j * SF_SUB + k];
                run[j * SF_SUB + k] = acc;
            }
        }
    }
#ifdef SF_MASK_COUNTS
    /* at least a vector of sub-blocks: below, the loop's counts cost less */
    if (whole_row && nsub >= 8 && sf_mask_counts()) {
        SF_FN(row_draws_masks)(K, S, stride, e, cum, sup, total, run, u, value);
        return;
    }
#endif
    for (sf_index s = 0; s < S; s++) {
        double t = u[s * stride] * total;
        sf_index j = 0, k = -1;
        for (sf_index q = 0; q < nsub; q++) j += cum[q] <= t;
        if (j < nsub) {
            sf_index lo = j * SF_SUB, hi = lo + SF_SUB < K ? lo + SF_SUB : K, c = 0;
            if (whole_row) {
                c = sf_sub_count_le(run + lo, t);
            } else {
                c = sf_scan_above(SF_SUB, e + lo, cum[j - 1], t);
            }
            if (lo + c < hi) k = lo + c;
        }
        value[s * stride] = (int64_t)(k >= 0 ? k : SF_FN(row_invert)(K, e, cum, sup, t));
    }
}

/* One row's S draws from the uniforms u[0], u[stride], ... into value at
 * the same stride, from e, cum, sup and total as row_exp_cum leaves them.
 * A cloned function, so that the searches are vectorised for the machine. */
SF_CLONES
static void SF_FN(row_draws)(sf_index K, sf_index S, sf_index stride, const double *e,
                             const double *cum, const double *sup, double total, double *run,
                             const double *u, int64_t *value)
{
    if (K <= SF_SUB * SF_SUPER) {
        SF_FN(row_draws_one_super)(K, S, stride, e, cum, sup, total, run, u, value);
    } else {
        for (sf_index s = 0; s < S; s++)
            value[s * stride] = (int64_t)SF_FN(row_invert)(K, e, cum, sup, u[s * stride] * total);
    }
}

/* nm[1] = log(nm[1]) for the n normalisers from nm (the totals row_sample
 * left), all rows at once, so that the logs are vectorised; an invalid
 * row's NaN stays. */
SF_CLONES
static void SF_FN(rows_log_total)(sf_index n, double *nm)
{
    SF_SIMD
    for (sf_index i = 0; i < n; i++) {
        double t = nm[2 * i + 1];
        nm[2 * i + 1] = t == t ? sf_log(t) : t;
    }
}

/* Rows [lo, hi) of sf_cat_prepare: the status of the first invalid row
 * among them, its index in *bad. */
static int SF_FN(prepare_rows)(sf_index lo, sf_index hi, sf_index K, const SF_T *logits,
                               SF_T *copy, double *norm, sf_index *bad)
{
    int status = SF_OK;
    for (sf_index i = lo; i < hi; i++) {
        int st = SF_FN(row_max)(K, logits + i * K, copy ? copy + i * K : NULL, norm + 2 * i);
        if (st != SF_OK && status == SF_OK) {
            status = st;
            *bad = i;
        }
    }
    return status;
}

int SF_FN(sf_cat_prepare)(sf_index B, sf_index K, const SF_T *logits, SF_T *copy,
                          double *norm, sf_index *bad_row, int n_threads)
{
    sf_index first_bad = -1;
    int status = SF_OK;
    if (n_threads <= 1 || B * K < 4 * SF_PARALLEL_MIN_WORK) {
        status = SF_FN(prepare_rows)(0, B, K, logits, copy, norm, &first_bad);
    } else {
        first_bad = B;
#pragma omp parallel num_threads(n_threads)
        {
            sf_index lo, hi, bad = -1;
            sf_thread_range(B, &lo, &hi);
            int st = SF_FN(prepare_rows)(lo, hi, K, logits, copy, norm, &bad);
            if (st != SF_OK) {
#pragma omp critical(sf_cat_bad_row)
                if (bad < first_bad) { first_bad = bad; status = st; }
            }
        }
        if (status == SF_OK) first_bad = -1;
    }
    if (bad_row) *bad_row = first_bad;
    return status;
}

int SF_FN(sf_cat_log_normalizer)(sf_index B, sf_index K, const SF_T *logits,
                                 double *norm, int n_threads)
{
    int nomem = 0;
    sf_index nsub = sf_sub_count(K), nsup = sf_super_count(K);
    (void)n_threads;
#pragma omp parallel num_threads(n_threads) reduction(| : nomem) \
    if (n_threads > 1 && B * K >= SF_PARALLEL_MIN_WORK)
    {
        double *e = (double *)malloc((size_t)(K + nsub + nsup) * sizeof(double));
        if (!e) nomem = 1;
#pragma omp for schedule(static)
        for (sf_index i = 0; i < B; i++) {
            double *nm = norm + 2 * i;
            if (!e || nm[0] != nm[0]) continue;       /* an invalid row stays NaN */
            const SF_T *next = sf_row_alone(K) && i + 1 < B ? logits + (i + 1) * K : NULL;
            double total = SF_FN(row_exp_cum)(K, logits + i * K, nm[0], e, e + K, e + K + nsub,
                                              next);
            nm[1] = sf_log(total);
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
            out[v] = (SF_T)(1.0 - sf_exp_nonpos(SF_FN(row_logp)(l, v, norm + 2 * i)));
        }
    }
    return bad ? SF_ERR_VALUE : SF_OK;
}

/* Rows [lo, hi) of sf_cat_reinforce, with their own scratch (on the stack
 * for up to SF_GRAD_STACK classes and SF_ADV_STACK doubles of advantages: a
 * small batch's whole call costs a few allocations' time); with fresh, each row of grad is zeroed
 * just before it is added to (sf_cat_reinforce_fresh).  Not cloned: its
 * loops are a row's few classes and samples, for which the AVX-512 clone
 * measured slower (C1 small 0.86 us against 0.60 us). */
#ifndef SF_GRAD_STACK
#define SF_GRAD_STACK 256
#define SF_GRAD_SHORT 16
/* cls[v] += adv[s * stride] for the classes v drawn in row i; the values
 * were checked before, and the range test here still keeps every access in
 * bounds should value share memory with grad. */
static inline void sf_class_sums(sf_index S, sf_index B, sf_index i, sf_index K,
                                 const int64_t *value, const double *adv, sf_index stride,
                                 double *cls)
{
    for (sf_index s = 0; s < S; s++) {
        int64_t v = value[s * B + i];
        if (v >= 0 && v < K) cls[v] += adv[s * stride];
    }
}
/* Rows whose advantages are taken together (rows_advantages), at most; and
 * the doubles of their scratch on the stack, (S + 6) per row. */
#define SF_ADV_ROWS 64
#define SF_ADV_STACK 2048
#endif
static int SF_FN(reinforce_rows)(sf_index lo, sf_index hi, sf_index S, sf_index B,
                                 sf_index K, const SF_T *logits, const double *norm,
                                 const int64_t *value, const SF_T *rewards, int kind,
                                 double c, double eps, double ddof, double scale, int fresh,
                                 int stream, SF_T *grad)
{
    if (lo >= hi) return SF_OK;
    /* the advantages of up to SF_ADV_ROWS rows at a time, computed across
     * the rows (rows_advantages, column_advantages' values: a small batch's
     * rows of a few samples each cost a call apiece otherwise): adv[s nb +
     * r] and W in w_row[r]; cls: per-class sums in double, all zero between
     * rows (only the drawn classes are touched and reset); with stream (a
     * new gradient only), each row is formed in row_tile, in cache, and
     * streamed out (sf_stream.h) */
    sf_index nb = SF_ADV_STACK / (S + 6);
    nb = nb < 1 ? 1 : nb > SF_ADV_ROWS ? SF_ADV_ROWS : nb;
    double adv_stack[SF_ADV_STACK], cls_stack[SF_GRAD_STACK];
    double *adv = (S + 6) * nb <= SF_ADV_STACK
                      ? adv_stack
                      : (double *)malloc((size_t)((S + 6) * nb) * sizeof(double));
    double *w_row = adv ? adv + S * nb : NULL;
    double *cls = K <= SF_GRAD_STACK ? cls_stack : (double *)calloc((size_t)K, sizeof(double));
    SF_T *row_tile = stream ? (SF_T *)malloc((size_t)K * sizeof(SF_T)) : NULL;
    if (cls == cls_stack)
        for (sf_index k = 0; k < K; k++) cls[k] = 0.0;
    int status = adv && cls && (row_tile || !stream) ? SF_OK : SF_ERR_NOMEM;
    for (sf_index i0 = lo; i0 < hi && status == SF_OK; i0 += nb) {
        sf_index n = hi - i0 < nb ? hi - i0 : nb;
        SF_FN(rows_advantages)(S, B, i0, n, rewards, kind, c, eps, ddof, scale, adv, w_row,
                               w_row + n);
        for (sf_index r = 0; r < n; r++) {
            sf_index i = i0 + r;
            SF_T *g = row_tile ? row_tile : grad + i * K;
            double w_total = w_row[r];
            if (fresh && w_total == 0.0 && K <= SF_GRAD_SHORT) {
                /* a new row of a short row's centred gradient, written in
                 * one pass, 0 + cls[k] (the values of adding to a zeroed
                 * row), cls zeroed again: the row's sums are never read back
                 * from a row just zeroed, which waited for the zeroing's
                 * stores (C1 small's gradient 0.86x the time in float64,
                 * 0.72x in float32; at 64 classes the two passes cost more
                 * than the wait, 1.2x) */
                sf_class_sums(S, B, i, K, value, adv + r, n, cls);
                SF_SIMD
                for (sf_index k = 0; k < K; k++) {
                    g[k] = (SF_T)(0.0 + cls[k]);
                    cls[k] = 0.0;
                }
            } else {
                if (fresh) {
                    SF_SIMD
                    for (sf_index k = 0; k < K; k++) g[k] = (SF_T)0;
                }
                if (w_total != 0.0)
                    SF_FN(row_axpy_probs)(K, logits + i * K, norm + 2 * i, w_total, g);
                /* the sums after the zeroing, so that its stores are done
                 * when the drawn classes are read back (summed first: 1.08x
                 * the time at C1 medium) */
                sf_class_sums(S, B, i, K, value, adv + r, n, cls);
                /* each drawn class is added to g once, rounded once */
                for (sf_index s = 0; s < S; s++) {
                    int64_t v = value[s * B + i];
                    if (v < 0 || v >= K) continue;
                    g[v] = (SF_T)((double)g[v] + cls[v]);
                    cls[v] = 0.0;
                }
            }
            if (row_tile) sf_stream_copy(grad + i * K, row_tile, (size_t)K * sizeof(SF_T));
        }
    }
    if (row_tile) {
        sf_stream_fence();
        free(row_tile);
    }
    if (adv != adv_stack) free(adv);
    if (cls != cls_stack) free(cls);
    return status;
}

static int SF_FN(reinforce_any)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                                const double *norm, const int64_t *value,
                                const SF_T *rewards, int kind, double c, double eps,
                                double ddof, double scale, int fresh, SF_T *grad,
                                int n_threads)
{
    int status = SF_OK;
    /* every value checked first: a failed call leaves grad untouched */
    if (sf_cat_check_value(S * B, K, value) != SF_OK) return SF_ERR_VALUE;
    /* sum_s a_s (onehot(v_s) - p) = -W p + sum_s a_s onehot(v_s), W = sum_s a_s;
     * a centred baseline has W = 0 and needs no pass over the probabilities,
     * so its work is the scatter of S * B advantages, not S * B * K, and the
     * zeroing of the B * K entries of a new gradient */
    sf_index work = sf_baseline_is_centred(kind) ? S * B : S * B * K;
    if (fresh) work += B * K;
    /* a new gradient past the caches is streamed out, row by row */
    int stream = fresh && sf_stream_wanted((size_t)(B * K) * sizeof(SF_T));
    if (n_threads <= 1 || work < SF_PARALLEL_MIN_WORK)
        return SF_FN(reinforce_rows)(0, B, S, B, K, logits, norm, value, rewards, kind, c,
                                     eps, ddof, scale, fresh, stream, grad);
#pragma omp parallel num_threads(n_threads) reduction(| : status)
    {
        sf_index lo, hi;
        sf_thread_range(B, &lo, &hi);
        status |= SF_FN(reinforce_rows)(lo, hi, S, B, K, logits, norm, value, rewards, kind,
                                        c, eps, ddof, scale, fresh, stream, grad);
    }
    return status ? SF_ERR_NOMEM : SF_OK;
}

int SF_FN(sf_cat_reinforce)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                            const double *norm, const int64_t *value,
                            const SF_T *rewards, int kind, double c, double eps,
                            double ddof, double scale, SF_T *grad, int n_threads)
{
    return SF_FN(reinforce_any)(S, B, K, logits, norm, value, rewards, kind, c, eps, ddof,
                                scale, 0, grad, n_threads);
}

int SF_FN(sf_cat_reinforce_fresh)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                                  const double *norm, const int64_t *value,
                                  const SF_T *rewards, int kind, double c, double eps,
                                  double ddof, double scale, SF_T *grad, int n_threads)
{
    return SF_FN(reinforce_any)(S, B, K, logits, norm, value, rewards, kind, c, eps, ddof,
                                scale, 1, grad, n_threads);
}

int SF_FN(sf_cat_weighted_score)(sf_index S, sf_index B, sf_index K,
                                 const SF_T *logits, const double *norm,
                                 const int64_t *value, const SF_T *weights,
                                 SF_T *grad, int n_threads)
{
    return SF_FN(sf_cat_reinforce)(S, B, K, logits, norm, value, weights, SF_BASE_NONE,
                                   0.0, 0.0, 0.0, 1.0, grad, n_threads);
}

/* Row i of an (S, B) draw when the row is invalid (drawn from only when
 * validation is off): no class to draw, value -1 and log-probability NaN. */
static inline void SF_FN(row_undrawn)(sf_index S, sf_index B, sf_index i, int64_t *value,
                                      SF_T *log_prob)
{
    for (sf_index s = 0; s < S; s++) {
        value[s * B + i] = -1;
        if (log_prob) log_prob[s * B + i] = (SF_T)NAN;
    }
}

#ifndef SF_SHORT_ROWS
#define SF_SHORT_ROWS 16
#endif
/* short_rows_sample's arithmetic for SF_SHORT_ROWS whole rows from i0, one
 * row to a vector lane: class k of row i0 + r is held at [k][r], so each
 * step (the maximum, an exponential, a running sum, a draw's count) is one
 * vector operation for all the rows, and no row's chain of dependent steps
 * waits for another's.  A draw counts the running sums at most u * total,
 * one comparison per class: they are nondecreasing, so this is the count
 * sf_sub_count_le finds.  The same values as a row at a time; the status
 * of the first invalid row, its index in *bad. */
SF_CLONES
static int SF_FN(short_rows_lanes)(sf_index i0, sf_index S, sf_index B, sf_index K,
                                   const SF_T *logits, double *norm, int fill_norm,
                                   const double *uniform, int64_t *value, sf_index *bad)
{
    enum { W = SF_SHORT_ROWS };
    double x[SF_SUB][W], e[SF_SUB][W], run[SF_SUB][W], m[W], total[W], t[W];
    int64_t c[W];
    int invalid[W], status = SF_OK;
    const SF_T *l = logits + i0 * K;
    for (sf_index r = 0; r < W; r++)
        for (sf_index k = 0; k < SF_SUB; k++)
            x[k][r] = k < K ? (double)l[r * K + k] : -INFINITY;
    if (fill_norm == SF_CAT_NORM_ALL) {
        SF_SIMD
        for (sf_index r = 0; r < W; r++) {
            double mr = -INFINITY;
            int has_nan = 0;
            for (sf_index k = 0; k < SF_SUB; k++) {
                has_nan |= x[k][r] != x[k][r];
                mr = x[k][r] > mr ? x[k][r] : mr;
            }
            invalid[r] = sf_row_status(has_nan, mr);
            m[r] = invalid[r] ? NAN : mr;
        }
        for (sf_index r = 0; r < W; r++) {
            norm[2 * (i0 + r)] = m[r];
            norm[2 * (i0 + r) + 1] = NAN;
            if (invalid[r] && status == SF_OK) {
                status = invalid[r];
                *bad = i0 + r;
            }
        }
    } else {
        for (sf_index r = 0; r < W; r++) m[r] = norm[2 * (i0 + r)];
    }
    for (sf_index k = 0; k < SF_SUB; k++) {
        /* past K, exp(-inf) = 0 is set, not computed: an exponential that
         * underflows costs the processor dearly */
        SF_SIMD
        for (sf_index r = 0; r < W; r++) e[k][r] = k < K ? SF_FN(row_exp)(x[k][r], m[r]) : 0.0;
    }
    SF_SIMD
    for (sf_index r = 0; r < W; r++) {
        double acc = 0.0;
        for (sf_index k = 0; k < SF_SUB; k++) {
            acc += e[k][r];
            run[k][r] = acc;
        }
        total[r] = K == SF_SUB ? ((e[0][r] + e[1][r]) + (e[2][r] + e[3][r])) +
                                 ((e[4][r] + e[5][r]) + (e[6][r] + e[7][r]))
                               : K > 0 ? run[K - 1][r] : 0.0;
    }
    if (fill_norm != SF_CAT_NORM_READY)
        for (sf_index r = 0; r < W; r++)
            if (m[r] == m[r]) norm[2 * (i0 + r) + 1] = total[r];
    for (sf_index s = 0; s < S; s++) {
        const double *u = uniform + s * B + i0;
        int64_t *v = value + s * B + i0;
        int rare = 0;
        SF_SIMD_REDUCE(|, rare)
        for (sf_index r = 0; r < W; r++) {
            t[r] = u[r] * total[r];
            int64_t cr = 0;
            for (sf_index k = 0; k < SF_SUB; k++) cr += run[k][r] <= t[r];
            c[r] = cr;
            rare |= !(t[r] < total[r] && cr < K);
        }
        for (sf_index r = 0; r < W; r++) {
            /* as short_rows_sample's rounding case */
            int past = rare && !(t[r] < total[r] && c[r] < K);
            v[r] = past ? (int64_t)sf_last_weighted(K, &e[0][r], W) : c[r];
        }
    }
    return status;
}

/* The rows [lo, hi) of sample_rows (without their log-sums and
 * log-probabilities) when a row has at most SF_SUB classes, one sub-block:
 * row_max, row_exp_cum and row_draws_one_super's arithmetic, the same sums
 * in the same order (a tree over a full sub-block, else in class order;
 * the running sums in class order), held in eight-lane arrays, with no call
 * per row.  Rows go SF_SHORT_ROWS at a time: a whole group to
 * short_rows_lanes (one row to a vector lane), the group left at the end
 * (and a batch of fewer rows, where most lanes would be idle) through three
 * loops: the maxima, the exponentials, the sums and draws.  The middle loop
 * holds nothing but the exponentials, so those of many rows are in flight
 * at once (one row's polynomial is a chain of dependent operations).  The
 * status of the first invalid row (its index in *bad) as sample_rows
 * gives it. */
SF_CLONES
static int SF_FN(short_rows_sample)(sf_index lo, sf_index hi, sf_index S, sf_index B,
                                    sf_index K, const SF_T *logits, double *norm,
                                    int fill_norm, const double *uniform, int64_t *value,
                                    SF_T *log_prob, sf_index *bad)
{
    int status = SF_OK;
    double x[SF_SHORT_ROWS][SF_SUB], e[SF_SHORT_ROWS][SF_SUB];
    for (sf_index i0 = lo; i0 < hi; i0 += SF_SHORT_ROWS) {
        sf_index n = hi - i0 < SF_SHORT_ROWS ? hi - i0 : SF_SHORT_ROWS;
        if (n == SF_SHORT_ROWS) {
            sf_index group_bad = -1;
            int st = SF_FN(short_rows_lanes)(i0, S, B, K, logits, norm, fill_norm, uniform,
                                             value, &group_bad);
            if (st != SF_OK && status == SF_OK) {
                status = st;
                *bad = group_bad;
            }
            for (sf_index r = 0; r < n; r++)
                if (norm[2 * (i0 + r)] != norm[2 * (i0 + r)])
                    SF_FN(row_undrawn)(S, B, i0 + r, value, log_prob);
            continue;
        }
        for (sf_index r = 0; r < n; r++) {
            const SF_T *l = logits + (i0 + r) * K;
            double *nm = norm + 2 * (i0 + r);
            for (sf_index k = 0; k < SF_SUB; k++) x[r][k] = k < K ? (double)l[k] : -INFINITY;
            if (fill_norm == SF_CAT_NORM_ALL) {
                double m = -INFINITY;
                int has_nan = 0;
                for (sf_index k = 0; k < SF_SUB; k++) {
                    has_nan |= x[r][k] != x[r][k];
                    m = x[r][k] > m ? x[r][k] : m;
                }
                int st = sf_row_status(has_nan, m);
                nm[0] = st ? NAN : m;
                nm[1] = NAN;
                if (st && status == SF_OK) {
                    status = st;
                    *bad = i0 + r;
                }
            }
        }
        for (sf_index r = 0; r < n; r++) {
            double m = norm[2 * (i0 + r)];          /* NaN for an invalid row: not used */
            for (sf_index k = 0; k < SF_SUB; k++)     /* 0 past K, as in short_rows_lanes */
                e[r][k] = k < K ? SF_FN(row_exp)(x[r][k], m) : 0.0;
        }
        for (sf_index r = 0; r < n; r++) {
            sf_index i = i0 + r;
            double *nm = norm + 2 * i;
            if (nm[0] != nm[0]) {
                SF_FN(row_undrawn)(S, B, i, value, log_prob);
                continue;
            }
            const double *er = e[r];
            double run[SF_SUB], total = 0.0, acc = 0.0;
            for (sf_index k = 0; k < SF_SUB; k++) {
                acc += er[k];
                run[k] = acc;
            }
            if (K == SF_SUB)
                total = ((er[0] + er[1]) + (er[2] + er[3])) +
                        ((er[4] + er[5]) + (er[6] + er[7]));
            else
                total = K > 0 ? run[K - 1] : 0.0;
            if (fill_norm != SF_CAT_NORM_READY) nm[1] = total;
            for (sf_index s = 0; s < S; s++) {
                double t = uniform[s * B + i] * total;
                sf_index c = sf_sub_count_le(run, t);
                if (!(t < total && c < K)) {
                    /* t at or past the tree sum, or past the class-order sums
                     * (rounding): the last class with a weight, as row_invert
                     * draws it then */
                    c = sf_last_weighted(K, er, 1);
                }
                value[s * B + i] = (int64_t)c;
            }
        }
    }
    return status;
}

/* The rows [lo, hi) of sample_rows with more than SF_SUB classes, with
 * their own scratch (status as short_rows_sample's, or SF_ERR_NOMEM).
 * Short enough rows (sf_row_alone) go several at a time through three loops
 * (row_max, row_exp_cum, row_draws), so that one row's chains of dependent
 * steps (the maximum, the running sums, the searches) overlap with those of
 * the others; a longer row goes alone, and the next row is fetched into
 * cache while its exponentials are computed. */
/* With zero, row i of zero is zeroed as row i is drawn (row_exp_sub), or
 * at once for an invalid row. */
static int SF_FN(long_rows_sample)(sf_index lo, sf_index hi, sf_index S, sf_index B,
                                   sf_index K, const SF_T *logits, double *norm,
                                   int fill_norm, const double *uniform, int64_t *value,
                                   SF_T *log_prob, SF_T *zero, sf_index *bad)
{
    /* per row of the block: e (zero past K up to a whole sub-block, for the
     * running sums of row_draws_one_super), a zero, then cum, sup and the
     * running sums; and the rows' totals */
    sf_index nsub = sf_sub_count(K), nsup = sf_super_count(K), Kp = nsub * SF_SUB;
    sf_index width = 2 * Kp + 1 + nsub + nsup;
    sf_index rows = sf_row_alone(K) ? 1 : SF_LONG_BLOCK / Kp;
    double *scratch = (double *)calloc((size_t)(rows * (width + 1)), sizeof(double));
    if (!scratch) return SF_ERR_NOMEM;
    double *total = scratch + rows * width;
    int status = SF_OK;
    /* the status of row i0's maximum when the previous row's pass found it */
    int found = 0, found_status = SF_OK;
    for (sf_index i0 = lo; i0 < hi; i0 += rows) {
        sf_index n = hi - i0 < rows ? hi - i0 : rows;
        if (fill_norm == SF_CAT_NORM_ALL) {
            for (sf_index r = 0; r < n; r++) {
                int st = found ? found_status
                               : SF_FN(row_max)(K, logits + (i0 + r) * K, NULL,
                                                norm + 2 * (i0 + r));
                if (st != SF_OK && status == SF_OK) {
                    status = st;
                    *bad = i0 + r;
                }
            }
            found = 0;
        }
        if (rows == 1) {
            /* a row alone is long: the next one is read meanwhile, and with
             * SF_CAT_NORM_ALL a float64 row's maximum found as it is (C1
             * large's sampler: 0.81x the time).  A float32 row's
             * exponentials take half as long, too short a pass for the next
             * row to arrive in: its maximum so taken cost 1.26x the time */
            double *nm = norm + 2 * i0;
            const SF_T *next = i0 + 1 < hi ? logits + (i0 + 1) * K : NULL;
            double *next_nm = next && fill_norm == SF_CAT_NORM_ALL &&
                              sizeof(SF_T) == sizeof(double) ? nm + 2 : NULL;
            if (nm[0] == nm[0]) {
                double *cum = scratch + Kp + 1;
                found_status = SF_FN(row_exp_sub)(K, logits + i0 * K, nm[0], scratch, cum,
                                                  next, next_nm, zero ? zero + i0 * K : NULL);
                found = next_nm != NULL;
                total[0] = sf_row_cum(K, cum, cum + nsub);
            } else if (zero) {
                memset(zero + i0 * K, 0, (size_t)K * sizeof(SF_T));
            }
        } else {
            /* the running sums of the block's rows after all their
             * exponentials (sf_row_cum) */
            for (sf_index r = 0; r < n; r++) {
                double *e = scratch + r * width;
                if (norm[2 * (i0 + r)] == norm[2 * (i0 + r)])
                    SF_FN(row_exp_sub)(K, logits + (i0 + r) * K, norm[2 * (i0 + r)], e,
                                       e + Kp + 1, NULL, NULL,
                                       zero ? zero + (i0 + r) * K : NULL);
                else if (zero)
                    memset(zero + (i0 + r) * K, 0, (size_t)K * sizeof(SF_T));
            }
            for (sf_index r = 0; r < n; r++) {
                double *e = scratch + r * width;
                if (norm[2 * (i0 + r)] == norm[2 * (i0 + r)])
                    total[r] = sf_row_cum(K, e + Kp + 1, e + Kp + 1 + nsub);
            }
        }
        if (fill_norm != SF_CAT_NORM_READY)
            for (sf_index r = 0; r < n; r++)
                if (norm[2 * (i0 + r)] == norm[2 * (i0 + r)]) norm[2 * (i0 + r) + 1] = total[r];
        for (sf_index r = 0; r < n; r++) {
            sf_index i = i0 + r;
            double *e = scratch + r * width;
            if (norm[2 * i] != norm[2 * i]) {
                SF_FN(row_undrawn)(S, B, i, value, log_prob);
                continue;
            }
            SF_FN(row_draws)(K, S, B, e, e + Kp + 1, e + Kp + 1 + nsub,
                             total[r], e + Kp + 1 + nsub + nsup, uniform + i, value + i);
        }
    }
    free(scratch);
    return status;
}

/* Rows [lo, hi) of sf_cat_sample, with their own scratch: SF_ERR_NOMEM, or
 * the status of the first invalid row found by the validation of
 * SF_CAT_NORM_ALL (its index in *bad); with zero, those rows of zero
 * zeroed (sf_cat_sample_zero). */
static int SF_FN(sample_rows)(sf_index lo, sf_index hi, sf_index S, sf_index B, sf_index K,
                              const SF_T *logits, double *norm, int fill_norm,
                              const double *uniform, int64_t *value, SF_T *log_prob,
                              SF_T *zero, sf_index *bad)
{
    if (lo >= hi) return SF_OK;
    int status = K <= SF_SUB ? SF_FN(short_rows_sample)(lo, hi, S, B, K, logits, norm,
                                                        fill_norm, uniform, value, log_prob,
                                                        bad)
                             : SF_FN(long_rows_sample)(lo, hi, S, B, K, logits, norm,
                                                       fill_norm, uniform, value, log_prob,
                                                       zero, bad);
    if (zero && K <= SF_SUB) memset(zero + lo * K, 0, (size_t)((hi - lo) * K) * sizeof(SF_T));
    if (fill_norm != SF_CAT_NORM_READY) SF_FN(rows_log_total)(hi - lo, norm + 2 * lo);
    if (log_prob) {
        for (sf_index i = lo; i < hi; i++) {
            const double *nm = norm + 2 * i;
            if (nm[0] != nm[0]) continue;
            for (sf_index s = 0; s < S; s++)
                log_prob[s * B + i] =
                    (SF_T)SF_FN(row_logp)(logits + i * K, (sf_index)value[s * B + i], nm);
        }
    }
    return status;
}

/* zero NULL: sf_cat_sample. */
int SF_FN(sf_cat_sample_zero)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                              double *norm, int fill_norm, const double *uniform,
                              int64_t *value, SF_T *log_prob, SF_T *zero, int n_threads)
{
    sf_index first_bad = B;
    int status = SF_OK, nomem = 0;
    if (n_threads <= 1 || S * B * K < SF_PARALLEL_MIN_WORK)
        return SF_FN(sample_rows)(0, B, S, B, K, logits, norm, fill_norm, uniform, value,
                                  log_prob, zero, &first_bad);
#pragma omp parallel num_threads(n_threads) reduction(| : nomem)
    {
        sf_index lo, hi, bad = B;
        sf_thread_range(B, &lo, &hi);
        int st = SF_FN(sample_rows)(lo, hi, S, B, K, logits, norm, fill_norm, uniform, value,
                                    log_prob, zero, &bad);
        if (st == SF_ERR_NOMEM) {
            nomem = 1;
        } else if (st != SF_OK) {
#pragma omp critical(sf_cat_sample_bad_row)
            if (bad < first_bad) { first_bad = bad; status = st; }
        }
    }
    return nomem ? SF_ERR_NOMEM : status;
}

int SF_FN(sf_cat_sample)(sf_index S, sf_index B, sf_index K, const SF_T *logits,
                         double *norm, int fill_norm, const double *uniform,
                         int64_t *value, SF_T *log_prob, int n_threads)
{
    return SF_FN(sf_cat_sample_zero)(S, B, K, logits, norm, fill_norm, uniform, value,
                                     log_prob, NULL, n_threads);
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
