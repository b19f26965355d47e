/* Instantiates the categorical kernels for double and float logits. */
#include <math.h>
#include <stdlib.h>

#include "categorical.h"

#define SF_T double
#define SF_SUF d
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "categorical_impl.h"
#undef SF_T
#undef SF_SUF
