/* Instantiates the Bernoulli kernels for double and float logits. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"
#include "bernoulli.h"
#include "sf_math.h"
#include "sf_random.h"
#include "sf_stream.h"

/* The output size from which this module's kernels stream (for tests). */
SF_STREAM_DEFINE_SETTER(sf_bern_set_stream_min)

#define SF_T double
#define SF_SUF d
#include "advantages_column.h"
#include "bernoulli_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_column.h"
#include "bernoulli_impl.h"
#undef SF_T
#undef SF_SUF
