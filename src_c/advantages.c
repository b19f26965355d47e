/* Instantiates the baselines for double and float rewards. */
#include <math.h>
#include <stdlib.h>

#include "advantages.h"

#define SF_T double
#define SF_SUF d
#include "advantages_column.h"
#include "advantages_impl.h"
#undef SF_T
#undef SF_SUF

#define SF_T float
#define SF_SUF f
#include "advantages_column.h"
#include "advantages_impl.h"
#undef SF_T
#undef SF_SUF
