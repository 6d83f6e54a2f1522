/* Run-time choice of the kernel table: the only process-wide state of the library, written once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "mlnetmlp.h"

#if defined(MLP_HAVE_AVX2_KERNELS)
#  include <cpuid.h>

/* AVX2 and FMA in cpuid, and the OS saves YMM state (OSXSAVE + XCR0 bits 1 and 2). */
static int cpu_has_avx2_fma(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    const int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!fma || !osxsave || !avx)
        return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0x6) != 0x6)
        return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    return (ebx >> 5) & 1;
}
#endif

static const mlp_kernels *selected = &mlp_kernels_generic;
static pthread_once_t selected_once = PTHREAD_ONCE_INIT;

static void select_kernels(void)
{
    const char *forced = getenv("MLNETMLP_ISA");
    if (forced && strcmp(forced, "generic") == 0)
        return;
#if defined(MLP_HAVE_AVX2_KERNELS)
    if (cpu_has_avx2_fma())
        selected = &mlp_kernels_avx2;
#endif
}

const mlp_kernels *mlp_kernels_get(void)
{
    pthread_once(&selected_once, select_kernels);
    return selected;
}

MLP_API const char *mlp_isa(void) { return mlp_kernels_get()->name; }
