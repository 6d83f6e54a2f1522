/* Output-layer losses fused with their gradient (softmax + cross-entropy, sigmoid + log-loss,
 * hinge, squared error), numerically stable for any logit. */
#ifndef MLP_LOSS_H
#define MLP_LOSS_H

#include <stdint.h>

typedef struct mlp_loss_batch {
    int32_t loss;          /* enum mlp_loss */
    int64_t rows, cols;
    const float *z;        /* raw outputs, rows x cols */
    int64_t ldz;
    const int32_t *labels; /* class indices (softmax), indexed through row_index */
    const float *targets;  /* cols floats per row (other losses), indexed through row_index */
    const float *weights;  /* per-row weights or NULL, indexed through row_index */
    const int32_t *row_index; /* row r of z belongs to example row_index[r] (NULL: r itself) */
    float grad_scale;      /* the gradient is multiplied by weight * grad_scale */
    float *grad;           /* rows x cols, may be NULL (evaluation only) */
    int64_t ldg;
    float smoothing;       /* label smoothing of the classification losses, in [0, 1) */
} mlp_loss_batch;

typedef struct mlp_loss_sums {
    double loss;   /* sum of weighted losses */
    double metric; /* weighted correct predictions (classification) or squared errors (regression) */
    double weight; /* sum of weights */
} mlp_loss_sums;

/* Adds the batch to *sums. Fails (with a message) on a label outside [0, cols). */
int32_t mlp_loss_run(const mlp_loss_batch *batch, mlp_loss_sums *sums);

/* The same for rows [r0, r1) shared out to a team: their gradients, and per_row[r] = row r's weighted loss,
 * metric and weight, which mlp_loss_total adds up in row order (the same total as mlp_loss_run, whatever
 * the split). */
int32_t mlp_loss_rows(const mlp_loss_batch *batch, int64_t r0, int64_t r1, mlp_loss_sums *per_row);

/* At most this many logits' exps per mlp_shifted_exps call. */
#define MLP_EXP_CHUNK 1024
/* e[j] = exp(z[j] - zmax) in double for j < n <= MLP_EXP_CHUNK (mlp_expf's value before its rounding to float;
 * zmax >= every z[j]), in the kernel set's vector lanes: the softmax of the loss and of the network's output. */
void mlp_shifted_exps(int64_t n, const float *z, float zmax, double *e);
void mlp_loss_total(const mlp_loss_sums *per_row, int64_t rows, mlp_loss_sums *sums);

/* A class label in [0, classes), or a failure naming it and its example. */
int32_t mlp_loss_check_label(int32_t label, int64_t example, int64_t classes);

/* Checks that loss and output width fit together. */
int32_t mlp_loss_check_outputs(int32_t loss, int64_t cols);

#endif
