/* Sparse (CSR) rows in the first layer: checks, the forward sum over nonzeros, and the row-sparse weight gradient
 * over the columns a minibatch touches. */
#ifndef MLP_SPARSE_H
#define MLP_SPARSE_H

#include <stdint.h>

#include "kernels.h"
#include "mlnetmlp.h"

/* Checks the rows rows[0..count) of x (0..count when rows is NULL) against the rules of mlp_csr, and the block
 * itself (non-NULL arrays, cols == expected_cols, indices inside [0, x->rows)). */
int32_t mlp_csr_check(const mlp_csr *x, const int32_t *rows, int64_t count, int64_t expected_cols);

/* The stored row of batch row r: rows[r], or r itself. */
static inline int64_t mlp_csr_row(const int32_t *rows, int64_t r) { return rows ? rows[r] : r; }

/* z[r, :] = act(bias + sum_k value_k * w[column_k, :]) for batch rows [r0, r1) (w row-major [cols, width]); the
 * nonzeros are added in column order, so a row gives the same result alone or in a batch. */
void mlp_sparse_forward(const mlp_kernels *kern, const mlp_csr *x, const int32_t *rows, int64_t r0, int64_t r1,
                        const float *w, int64_t width, const float *bias, int32_t activation, float *z, int64_t ldz);

/* The columns a minibatch touches and, per column, its (batch row, value) entries in row order: the minibatch's
 * nonzeros turned from rows into columns (a counting sort through slot_of, a map column -> slot kept all -1 between
 * batches). Buffers grow on demand and are owned by the caller's struct. */
typedef struct mlp_sparse_batch {
    int64_t slots;           /* distinct columns */
    int32_t *slot_column;    /* [slots], ascending */
    int64_t *slot_start;     /* [slots + 1] into entry_row / entry_value */
    int32_t *entry_row;      /* batch row of each entry */
    float *entry_value;
    int64_t capacity_column, capacity_start, capacity_row, capacity_value;
    int32_t *slot_of;        /* [cols]: slot of a column in this batch, or -1 */
    int64_t cols;
} mlp_sparse_batch;

/* Allocates slot_of for `cols` columns (all -1); 0 on out of memory. */
int mlp_sparse_batch_init(mlp_sparse_batch *b, int64_t cols);
void mlp_sparse_batch_free(mlp_sparse_batch *b);
/* Builds the batch's columns from rows [0, count) of x (already checked); MLP_ERR_OUT_OF_MEMORY if a buffer cannot
 * grow. */
int32_t mlp_sparse_batch_build(mlp_sparse_batch *b, const mlp_csr *x, const int32_t *rows, int64_t count);
/* Makes the batch's slots the given columns (ascending, distinct, checked by the caller) with no entries: the union of
 * several processes' batches, for an update from their summed gradient. MLP_ERR_OUT_OF_MEMORY if a buffer cannot grow. */
int32_t mlp_sparse_batch_set_columns(mlp_sparse_batch *b, const int32_t *columns, int64_t count);
/* Resets slot_of for the next batch. */
void mlp_sparse_batch_clear(mlp_sparse_batch *b);

/* grad[s, :] = sum over slot s's entries of value * dz[row, :] for slots [s0, s1), in entry (row) order. */
void mlp_sparse_weight_gradient(const mlp_kernels *kern, const mlp_sparse_batch *b, int64_t s0, int64_t s1,
                                const float *dz, int64_t ldz, int64_t width, float *grad);

#endif
