/* Instantiates the categorical kernels for double and float logits. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"
#include "categorical.h"
#include "sf_math.h"

#define SF_T double
#define SF_SUF d
#include "advantages_column.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_column.h"
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

int sf_cat_check_value(sf_index n, sf_index K, const int64_t *value)
{
    int bad = 0;
    for (sf_index j = 0; j < n; j++) bad |= (value[j] < 0) | (value[j] >= K);
    return bad ? SF_ERR_VALUE : SF_OK;
}
