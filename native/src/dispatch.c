/* Run-time choice of the kernel table: the only process-wide state of the library, written once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_bf16.h"
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

#if defined(MLP_HAVE_AVX512_KERNELS)
/* AVX-512F in cpuid, and the OS saves opmask and ZMM state (XCR0 bits 5, 6, 7 besides 1 and 2). */
static int cpu_has_avx512f(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!cpu_has_avx2_fma() || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !((ebx >> 16) & 1))
        return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    return (xcr0_lo & 0xE6) == 0xE6;
}

static mlp_kernels avx512_kernels; /* the AVX2 set plus the wide tiles, filled in once below */
#endif

static const mlp_kernels *selected = &mlp_kernels_generic;
static pthread_once_t selected_once = PTHREAD_ONCE_INIT;

static void select_kernels(void)
{
    /* MLNETMLP_ISA=generic or =avx2 caps the choice (tests and comparisons) */
    const char *forced = getenv("MLNETMLP_ISA");
    if (forced && strcmp(forced, "generic") == 0)
        return;
#if defined(MLP_HAVE_AVX2_KERNELS)
    if (cpu_has_avx2_fma())
        selected = &mlp_kernels_avx2;
#endif
#if defined(MLP_HAVE_AVX512_KERNELS)
    if (!(forced && strcmp(forced, "avx2") == 0) && cpu_has_avx512f()) {
        avx512_kernels = mlp_kernels_avx2;
        avx512_kernels.name = "avx512";
        avx512_kernels.gemm_micro_wide = mlp_gemm_micro_wide_avx512;
        avx512_kernels.gemm_micro_wide_columns = mlp_gemm_micro_wide_columns_avx512;
        avx512_kernels.gemm_thin = mlp_gemm_thin_avx512;
        avx512_kernels.adam_update = mlp_adam_update_avx512;
        avx512_kernels.bias_activation = mlp_bias_activation_avx512;
        selected = &avx512_kernels;
    }
#endif
}

/* AVX512_BF16 (cpuid leaf 7 subleaf 1, EAX bit 5) on top of AVX-512F with the OS's ZMM state, unless
 * MLNETMLP_ISA caps the kernels below AVX-512. Read once. */
static int bf16 = 0;
static pthread_once_t bf16_once = PTHREAD_ONCE_INIT;

static void detect_bf16(void)
{
#if defined(MLP_HAVE_AVX512_KERNELS)
    const char *forced = getenv("MLNETMLP_ISA");
    if (forced && (strcmp(forced, "generic") == 0 || strcmp(forced, "avx2") == 0))
        return;
    unsigned eax, ebx, ecx, edx;
    bf16 = cpu_has_avx512f() && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && ((eax >> 5) & 1);
#endif
}

int mlp_bf16_available(void)
{
    pthread_once(&bf16_once, detect_bf16);
    return bf16;
}

MLP_API int32_t mlp_has_bfloat16(void) { return mlp_bf16_available(); }

const mlp_kernels *mlp_kernels_get(void)
{
    pthread_once(&selected_once, select_kernels);
    return selected;
}

MLP_API const char *mlp_isa(void) { return mlp_kernels_get()->name; }
