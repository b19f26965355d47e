/* Instantiates the Gaussian kernels for double and float parameters. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"
#include "gaussian.h"
#include "sf_math.h"
#include "sf_random.h"
#include "sf_stream.h"

/* The output size from which this module's kernels stream (for tests). */
SF_STREAM_DEFINE_SETTER(sf_gauss_set_stream_min)

#define SF_T double
#define SF_SUF d
#include "advantages_column.h"
#include "advantages_rows.h"
#include "gaussian_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_column.h"
#include "advantages_rows.h"
#include "gaussian_impl.h"
#undef SF_T
#undef SF_SUF

sf_index sf_marked_indices(sf_index n, unsigned char *mark, sf_index *idx, int portable)
{
    return portable ? sf_marked_words(n, mark, idx) : sf_marked(n, mark, idx);
}
