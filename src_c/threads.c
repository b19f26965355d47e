#include "sf_common.h"

#ifdef _OPENMP
#include <omp.h>
int sf_max_threads(void) { return omp_get_max_threads(); }
int sf_have_openmp(void) { return 1; }
#else
int sf_max_threads(void) { return 1; }
int sf_have_openmp(void) { return 0; }
#endif
