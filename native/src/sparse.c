/* Sparse (CSR) rows in the first layer. */
#include "sparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "memory.h"

int32_t mlp_csr_check(const mlp_csr *x, const int32_t *rows, int64_t count, int64_t expected_cols)
{
    MLP_CHECK_NOT_NULL(x);
    MLP_CHECK(x->rows >= 0, "the CSR block has %lld rows", (long long)x->rows);
    MLP_CHECK(x->cols == expected_cols, "the CSR block has %lld columns but the network has %lld inputs",
              (long long)x->cols, (long long)expected_cols);
    MLP_CHECK(count >= 0, "row count must not be negative");
    if (count == 0)
        return MLP_OK;
    MLP_CHECK(x->offsets != NULL, "the CSR block's offsets must not be NULL");
    if (!rows)
        MLP_CHECK(count <= x->rows, "%lld rows requested but the CSR block has %lld", (long long)count, (long long)x->rows);
    for (int64_t r = 0; r < count; ++r) {
        const int64_t row = mlp_csr_row(rows, r);
        MLP_CHECK(row >= 0 && row < x->rows, "row index %lld is outside [0, %lld)", (long long)row, (long long)x->rows);
        const int64_t lo = x->offsets[row], hi = x->offsets[row + 1];
        MLP_CHECK(lo >= 0 && hi >= lo, "CSR row %lld has offsets %lld..%lld (they must be >= 0 and non-decreasing)",
                  (long long)row, (long long)lo, (long long)hi);
        if (hi == lo)
            continue;
        MLP_CHECK(x->columns != NULL && x->values != NULL, "the CSR block's columns and values must not be NULL");
        for (int64_t k = lo; k < hi; ++k) {
            const int32_t c = x->columns[k];
            MLP_CHECK(c >= 0 && c < x->cols, "CSR row %lld has column %d outside [0, %lld)", (long long)row, (int)c,
                      (long long)x->cols);
            MLP_CHECK(k == lo || c > x->columns[k - 1],
                      "CSR row %lld has columns out of order or repeated (%d after %d): sort them and merge duplicates",
                      (long long)row, (int)c, (int)x->columns[k - 1]);
            MLP_CHECK(isfinite(x->values[k]), "CSR row %lld has a non-finite value at column %d", (long long)row, (int)c);
        }
    }
    return MLP_OK;
}

void mlp_sparse_forward(const mlp_kernels *kern, const mlp_csr *x, const int32_t *rows, int64_t r0, int64_t r1,
                        const float *w, int64_t width, const float *bias, int32_t activation, float *z, int64_t ldz)
{
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t row = mlp_csr_row(rows, r);
        float *zr = z + r * ldz;
        memset(zr, 0, (size_t)width * sizeof(float));
        for (int64_t k = x->offsets[row]; k < x->offsets[row + 1]; ++k)
            kern->axpy(width, x->values[k], w + (int64_t)x->columns[k] * width, zr);
        kern->bias_activation(activation, width, bias, zr);
    }
}

int mlp_sparse_batch_init(mlp_sparse_batch *b, int64_t cols)
{
    memset(b, 0, sizeof *b);
    b->cols = cols;
    b->slot_of = malloc((size_t)(cols > 0 ? cols : 1) * sizeof(int32_t));
    if (!b->slot_of)
        return 0;
    for (int64_t c = 0; c < cols; ++c) b->slot_of[c] = -1;
    return 1;
}

void mlp_sparse_batch_free(mlp_sparse_batch *b)
{
    free(b->slot_column);
    free(b->slot_start);
    free(b->entry_row);
    free(b->entry_value);
    free(b->slot_of);
    memset(b, 0, sizeof *b);
}

/* Grows *p to hold n elements of size each (doubling); 0 on failure. */
static int grow(void **p, int64_t *capacity, int64_t n, size_t size)
{
    if (n <= *capacity)
        return 1;
    int64_t want = *capacity > 0 ? *capacity : 1024;
    while (want < n) want *= 2;
    void *q = realloc(*p, (size_t)want * size);
    if (!q)
        return 0;
    *p = q;
    *capacity = want;
    return 1;
}

static int compare_int32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int32_t mlp_sparse_batch_build(mlp_sparse_batch *b, const mlp_csr *x, const int32_t *rows, int64_t count)
{
    int64_t entries = 0;
    for (int64_t r = 0; r < count; ++r) {
        const int64_t row = mlp_csr_row(rows, r);
        entries += x->offsets[row + 1] - x->offsets[row];
    }
    /* at most one slot per nonzero */
    if (!grow((void **)&b->slot_column, &b->capacity_column, entries + 1, sizeof(int32_t)) ||
        !grow((void **)&b->slot_start, &b->capacity_start, entries + 2, sizeof(int64_t)) ||
        !grow((void **)&b->entry_row, &b->capacity_row, entries + 1, sizeof(int32_t)) ||
        !grow((void **)&b->entry_value, &b->capacity_value, entries + 1, sizeof(float)))
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory for a minibatch of %lld nonzeros", (long long)entries);

    /* distinct columns, ascending: a slot per column in column order, so the update order is fixed */
    int64_t slots = 0;
    for (int64_t r = 0; r < count; ++r) {
        const int64_t row = mlp_csr_row(rows, r);
        for (int64_t k = x->offsets[row]; k < x->offsets[row + 1]; ++k) {
            const int32_t c = x->columns[k];
            if (b->slot_of[c] < 0) {
                b->slot_of[c] = 0;
                b->slot_column[slots++] = c;
            }
        }
    }
    qsort(b->slot_column, (size_t)slots, sizeof(int32_t), compare_int32);
    for (int64_t s = 0; s < slots; ++s) b->slot_of[b->slot_column[s]] = (int32_t)s;
    b->slots = slots;
    /* counting sort of the entries by slot, rows in order within a slot */
    memset(b->slot_start, 0, (size_t)(slots + 1) * sizeof(int64_t));
    for (int64_t r = 0; r < count; ++r) {
        const int64_t row = mlp_csr_row(rows, r);
        for (int64_t k = x->offsets[row]; k < x->offsets[row + 1]; ++k) b->slot_start[b->slot_of[x->columns[k]] + 1]++;
    }
    for (int64_t s = 0; s < slots; ++s) b->slot_start[s + 1] += b->slot_start[s];
    int64_t *next = b->slot_start + 0; /* fill through a moving cursor per slot, restored below */
    for (int64_t r = 0; r < count; ++r) {
        const int64_t row = mlp_csr_row(rows, r);
        for (int64_t k = x->offsets[row]; k < x->offsets[row + 1]; ++k) {
            const int64_t at = next[b->slot_of[x->columns[k]]]++;
            b->entry_row[at] = (int32_t)r;
            b->entry_value[at] = x->values[k];
        }
    }
    /* the cursors now point at each slot's end, which is the next slot's start: shift back by one slot */
    for (int64_t s = slots; s > 0; --s) b->slot_start[s] = b->slot_start[s - 1];
    b->slot_start[0] = 0;
    return MLP_OK;
}

int32_t mlp_sparse_batch_set_columns(mlp_sparse_batch *b, const int32_t *columns, int64_t count)
{
    mlp_sparse_batch_clear(b);
    if (!grow((void **)&b->slot_column, &b->capacity_column, count + 1, sizeof(int32_t)) ||
        !grow((void **)&b->slot_start, &b->capacity_start, count + 2, sizeof(int64_t)))
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory for %lld first-layer rows", (long long)count);
    if (count > 0) memcpy(b->slot_column, columns, (size_t)count * sizeof(int32_t));
    memset(b->slot_start, 0, (size_t)(count + 1) * sizeof(int64_t));
    b->slots = count;
    return MLP_OK;
}

void mlp_sparse_batch_clear(mlp_sparse_batch *b)
{
    for (int64_t s = 0; s < b->slots; ++s) b->slot_of[b->slot_column[s]] = -1;
    b->slots = 0;
}

void mlp_sparse_weight_gradient(const mlp_kernels *kern, const mlp_sparse_batch *b, int64_t s0, int64_t s1,
                                const float *dz, int64_t ldz, int64_t width, float *grad)
{
    for (int64_t s = s0; s < s1; ++s) {
        float *g = grad + s * width;
        memset(g, 0, (size_t)width * sizeof(float));
        for (int64_t e = b->slot_start[s]; e < b->slot_start[s + 1]; ++e)
            kern->axpy(width, b->entry_value[e], dz + (int64_t)b->entry_row[e] * ldz, g);
    }
}
