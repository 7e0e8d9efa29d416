// Shared between the kernel variants and the dispatcher; not part of the API.
#ifndef SEARCH_KERNELS_INTERNAL_H
#define SEARCH_KERNELS_INTERNAL_H

#include "search_kernels.h"

extern const mms_kernel_table mms_portable_table;
#if defined(__x86_64__) || defined(_M_X64)
#define MMS_HAVE_X86_VARIANTS 1
extern const mms_kernel_table mms_avx2_table;
extern const mms_kernel_table mms_avx512_table;
#endif

#endif
