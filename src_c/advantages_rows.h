/*
 * The advantages of a run of rows (see advantages.h), written once over the
 * element type: included with SF_T and SF_SUF defined by every file whose
 * gradients take rows' advantages together, defining a static function per
 * type.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* The advantages of rows [m0, m0 + nr) (each its rewards column
 * rewards[s M + m], s < S), those column_advantages gives row by row,
 * computed across the rows, which are consecutive in every sample's
 * rewards: adv[s nr + r] and the totals W in w_total[r].  The same
 * operations per row, in its order (the same bits); where column_advantages
 * stores a deviation and reads it back, it is formed again.  tmp: 5 nr
 * doubles. */
SF_CLONES
static void SF_FN(rows_advantages)(sf_index S, sf_index M, sf_index m0, sf_index nr,
                                   const SF_T *rewards, int kind, double c, double eps,
                                   double ddof, double scale, double *adv, double *w_total,
                                   double *tmp)
{
    const SF_T *rw = rewards + m0;
    SF_SIMD
    for (sf_index r = 0; r < nr; r++) w_total[r] = 0.0;
    if (kind == SF_BASE_NONE || kind == SF_BASE_CONST) {
        double shift = kind == SF_BASE_CONST ? c : 0.0;
        for (sf_index s = 0; s < S; s++) {
            SF_SIMD
            for (sf_index r = 0; r < nr; r++) {
                double a = ((double)rw[s * M + r] - shift) * scale;
                adv[s * nr + r] = a;
                w_total[r] += a;
            }
        }
        return;
    }
    /* the centred kinds: deviations from the first reward, their mean, the
     * factor (for group, over the deviations' spread); W = 0 */
    double *first = tmp, *mean_dev = tmp + nr, *factor = tmp + 2 * nr;
    double *big = tmp + 3 * nr, *ss = tmp + 4 * nr;
    SF_SIMD
    for (sf_index r = 0; r < nr; r++) {
        first[r] = (double)rw[r];
        mean_dev[r] = 0.0;
    }
    for (sf_index s = 0; s < S; s++) {
        SF_SIMD
        for (sf_index r = 0; r < nr; r++) mean_dev[r] += (double)rw[s * M + r] - first[r];
    }
    const double loo = (double)S / (double)(S - 1 > 0 ? S - 1 : 1);
    SF_SIMD
    for (sf_index r = 0; r < nr; r++) {
        mean_dev[r] = mean_dev[r] / (double)S;
        factor[r] = kind == SF_BASE_LOO ? scale * loo : scale;
    }
    if (kind == SF_BASE_GROUP) {
        SF_SIMD
        for (sf_index r = 0; r < nr; r++) big[r] = ss[r] = 0.0;
        for (sf_index s = 0; s < S; s++) {
            SF_SIMD
            for (sf_index r = 0; r < nr; r++) {
                double d = fabs(((double)rw[s * M + r] - first[r]) - mean_dev[r]);
                big[r] = d > big[r] ? d : big[r];
            }
        }
        /* a row of equal rewards has deviations of 0 and its sum of squares
         * stays 0 (divided by 1 here, not by its spread of 0) */
        for (sf_index s = 0; s < S; s++) {
            SF_SIMD
            for (sf_index r = 0; r < nr; r++) {
                double b = big[r] > 0.0 ? big[r] : 1.0;
                double d = (((double)rw[s * M + r] - first[r]) - mean_dev[r]) / b;
                ss[r] += d * d;
            }
        }
        double dof = (double)S - ddof;
        SF_SIMD
        for (sf_index r = 0; r < nr; r++) {
            double sd = dof > 0.0 ? big[r] * sqrt(ss[r] / dof) : INFINITY;
            factor[r] = big[r] > 0.0 ? factor[r] / (sd + eps) : 0.0;
        }
    }
    for (sf_index s = 0; s < S; s++) {
        SF_SIMD
        for (sf_index r = 0; r < nr; r++)
            adv[s * nr + r] = (((double)rw[s * M + r] - first[r]) - mean_dev[r]) * factor[r];
    }
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
