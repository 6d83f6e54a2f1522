/* Checked exports of the element-wise kernels, for tests and tools. */
#include "errors.h"
#include "kernels.h"
#include "loss.h"
#include "mlnetmlp.h"

static int32_t check_rows_cols(int64_t rows, int64_t cols)
{
    MLP_CHECK(rows >= 0 && cols >= 0, "rows and cols must not be negative (rows=%lld, cols=%lld)", (long long)rows,
              (long long)cols);
    return MLP_OK;
}

MLP_API int32_t mlp_bias_activation_forward(int32_t activation, int64_t rows, int64_t cols, const float *bias,
                                            float *x, int64_t ldx)
{
    mlp_clear_error();
    int32_t status = check_rows_cols(rows, cols);
    if (status != MLP_OK) return status;
    MLP_CHECK(activation >= MLP_ACT_IDENTITY && activation <= MLP_ACT_LAST, "unknown activation %d", (int)activation);
    MLP_CHECK(ldx >= cols, "ldx (%lld) must be at least cols (%lld)", (long long)ldx, (long long)cols);
    if (rows == 0 || cols == 0) return MLP_OK;
    MLP_CHECK_NOT_NULL(x);
    const mlp_kernels *k = mlp_kernels_get();
    for (int64_t r = 0; r < rows; ++r) k->bias_activation(activation, cols, bias, x + r * ldx);
    return MLP_OK;
}

MLP_API int32_t mlp_activation_backward(int32_t activation, int64_t rows, int64_t cols, const float *h, int64_t ldh,
                                        float *grad, int64_t ldg)
{
    mlp_clear_error();
    int32_t status = check_rows_cols(rows, cols);
    if (status != MLP_OK) return status;
    MLP_CHECK(activation >= MLP_ACT_IDENTITY && activation <= MLP_ACT_LAST, "unknown activation %d", (int)activation);
    MLP_CHECK(ldh >= cols && ldg >= cols, "ldh (%lld) and ldg (%lld) must be at least cols (%lld)", (long long)ldh,
              (long long)ldg, (long long)cols);
    if (rows == 0 || cols == 0) return MLP_OK;
    MLP_CHECK_NOT_NULL(h);
    MLP_CHECK_NOT_NULL(grad);
    const mlp_kernels *k = mlp_kernels_get();
    for (int64_t r = 0; r < rows; ++r) k->activation_backward(activation, cols, h + r * ldh, grad + r * ldg);
    return MLP_OK;
}

MLP_API int32_t mlp_loss_forward_backward(int32_t loss, int64_t rows, int64_t cols, const float *z, int64_t ldz,
                                          const int32_t *labels, const float *targets, const float *weights,
                                          float *grad, int64_t ldg, double *loss_out)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(loss_out);
    int32_t status = mlp_loss_check_outputs(loss, cols);
    if (status != MLP_OK) return status;
    MLP_CHECK(rows >= 1, "rows must be at least 1, got %lld", (long long)rows);
    MLP_CHECK(ldz >= cols, "ldz (%lld) must be at least cols (%lld)", (long long)ldz, (long long)cols);
    MLP_CHECK_NOT_NULL(z);
    if (loss == MLP_LOSS_SOFTMAX_CROSS_ENTROPY)
        MLP_CHECK(labels != NULL && targets == NULL, "softmax cross-entropy takes labels (not targets)");
    else
        MLP_CHECK(targets != NULL && labels == NULL, "this loss takes targets (not labels)");
    if (grad)
        MLP_CHECK(ldg >= cols, "ldg (%lld) must be at least cols (%lld)", (long long)ldg, (long long)cols);
    const mlp_loss_batch b = {loss, rows, cols, z, ldz, labels, targets, weights, NULL, 1.0f / (float)rows, grad, ldg, 0.0f};
    mlp_loss_sums sums = {0, 0, 0};
    if ((status = mlp_loss_run(&b, &sums)) != MLP_OK) return status;
    *loss_out = sums.loss / (double)rows;
    return MLP_OK;
}
