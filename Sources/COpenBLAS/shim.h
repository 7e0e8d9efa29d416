// OpenBLAS's own cblas.h (found through pkg-config's include path, which comes
// first) declares both the CBLAS interface and openblas_* controls such as
// openblas_set_num_threads and openblas_get_corename.
#include <cblas.h>
