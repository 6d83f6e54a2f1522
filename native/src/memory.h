/* Checked sizes and 64-byte aligned float buffers. */
#ifndef MLP_MEMORY_H
#define MLP_MEMORY_H

#include <stdint.h>
#include <stdlib.h>
#if defined(_WIN32)
#  include <malloc.h> /* _aligned_malloc: the Windows C runtimes have no C11 aligned_alloc */
#endif

/* *out = a * b, or 0 if it would overflow int64 (both operands must be >= 0). */
static inline int mlp_mul_ok(int64_t a, int64_t b, int64_t *out)
{
    if (a != 0 && b > INT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

/* NULL on failure or when count does not fit in size_t bytes; count == 0 gives a valid pointer. */
static inline float *mlp_alloc_floats(int64_t count)
{
    if (count < 0 || (uint64_t)count > SIZE_MAX / sizeof(float) - 16)
        return NULL;
    /* C11 aligned_alloc wants the size to be a multiple of the alignment. */
    const size_t bytes = ((size_t)(count > 0 ? count : 1) * sizeof(float) + 63u) & ~(size_t)63u;
#if defined(_WIN32)
    return (float *)_aligned_malloc(bytes, 64);
#else
    return (float *)aligned_alloc(64, bytes);
#endif
}

/* Frees what mlp_alloc_floats returned (and only that: on Windows the two heaps differ). */
static inline void mlp_free(void *p)
{
#if defined(_WIN32)
    _aligned_free(p);
#else
    free(p);
#endif
}

#endif
