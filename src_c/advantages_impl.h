/* Baselines over columns, written once over the element type; see advantages.h. */
#define SF_CAT2(name, suf) name##_##suf
#define SF_CAT1(name, suf) SF_CAT2(name, suf)
#define SF_FN(name) SF_CAT1(name, SF_SUF)

int SF_FN(sf_advantages)(sf_index S, sf_index M, const SF_T *rewards, int kind,
                         double c, double eps, double ddof, double scale, SF_T *adv)
{
    if (S == 0 || M == 0) return SF_OK;
    double *col = (double *)malloc((size_t)S * sizeof(double));
    if (!col) return SF_ERR_NOMEM;
    for (sf_index m = 0; m < M; m++) {
        SF_FN(column_advantages)(S, M, m, rewards, kind, c, eps, ddof, scale, col);
        for (sf_index s = 0; s < S; s++) adv[s * M + m] = (SF_T)col[s];
    }
    free(col);
    return SF_OK;
}

SF_CLONES
int SF_FN(sf_check_finite)(sf_index n, const SF_T *x)
{
    int has_nan = 0, has_inf = 0;
    SF_SIMD_REDUCE2(|, has_nan, |, has_inf)
    for (sf_index j = 0; j < n; j++) {
        SF_T v = x[j];       /* in its type: float32 ones sixteen to a vector */
        has_nan |= (v != v);
        has_inf |= (v == (SF_T)INFINITY) | (v == (SF_T)-INFINITY);
    }
    return has_nan ? SF_ERR_NAN : has_inf ? SF_ERR_INF : SF_OK;
}

#undef SF_FN
#undef SF_CAT1
#undef SF_CAT2
