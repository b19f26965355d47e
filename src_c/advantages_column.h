/*
 * One column of advantages (see advantages.h), written once over the element
 * type: included with SF_T and SF_SUF defined by every file that needs it,
 * defining a static function per type.
 */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

/* column_advantages for the centred kinds (mean, loo, group). */
static double SF_FN(centred_advantages)(sf_index S, sf_index M, sf_index m,
                                        const SF_T *rewards, int kind, double eps,
                                        double ddof, double scale, double *adv)
{
    double first = (double)rewards[m];
    double dev_sum = 0.0;
    for (sf_index s = 0; s < S; s++) {
        adv[s] = (double)rewards[s * M + m] - first;
        dev_sum += adv[s];
    }
    double mean_dev = dev_sum / (double)S;
    double factor = scale;
    if (kind == SF_BASE_LOO) {
        factor *= (double)S / (double)(S - 1);
    } else if (kind == SF_BASE_GROUP) {
        /* the squares are of deviations scaled by the largest, so that they
         * neither overflow (rewards past 1e154) nor underflow (below 1e-162) */
        double big = 0.0;
        for (sf_index s = 0; s < S; s++) {
            double d = fabs(adv[s] - mean_dev);
            big = d > big ? d : big;
        }
        double ss = 0.0;
        if (big > 0.0) {
            for (sf_index s = 0; s < S; s++) {
                double d = (adv[s] - mean_dev) / big;
                ss += d * d;
            }
        }
        double dof = (double)S - ddof;
        double sd = dof > 0.0 ? big * sqrt(ss / dof) : INFINITY;
        /* equal rewards (all deviations 0) get exactly zero advantages, whatever eps */
        factor = big > 0.0 ? factor / (sd + eps) : 0.0;
    }
    if (sizeof(SF_T) == sizeof(float) && kind != SF_BASE_GROUP) {
        /* float rewards are converted one at a time, so their deviations
         * went to adv one at a time, and reading them back as vectors would
         * wait for those stores: the same values are formed again instead */
        for (sf_index s = 0; s < S; s++)
            adv[s] = (((double)rewards[s * M + m] - first) - mean_dev) * factor;
        return 0.0;
    }
    for (sf_index s = 0; s < S; s++) adv[s] = (adv[s] - mean_dev) * factor;
    return 0.0;
}

/* adv[s] = scale * (rewards[s * M + m] - baseline), s < S.  Returns the sum
 * of the advantages as the estimator uses it: 0 for the centred kinds,
 * whose advantages sum to zero in exact arithmetic.  The uncentred kinds
 * are inline: a policy batch calls this once per row of a few coordinates
 * and a single sample, where a call would cost more than the row. */
static inline double SF_FN(column_advantages)(sf_index S, sf_index M, sf_index m,
                                              const SF_T *rewards, int kind, double c,
                                              double eps, double ddof, double scale,
                                              double *adv)
{
    if (kind == SF_BASE_NONE || kind == SF_BASE_CONST) {
        double shift = kind == SF_BASE_CONST ? c : 0.0, total = 0.0;
        for (sf_index s = 0; s < S; s++) {
            adv[s] = ((double)rewards[s * M + m] - shift) * scale;
            total += adv[s];
        }
        return total;
    }
    return SF_FN(centred_advantages)(S, M, m, rewards, kind, eps, ddof, scale, adv);
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
