/*
 * mlnetmlp.h - the C ABI of the MlNetMlp compute core (libmlnetmlp).
 *
 * Conventions:
 *  - every function returns an int32_t status (MLP_OK == 0) unless it is a pure query;
 *    on failure mlp_last_error_message() describes the problem (thread-local).
 *  - matrices are row-major float32; a leading dimension is the distance between rows.
 *  - handles are opaque; destroy(NULL) is a no-op.
 *  - output buffers are allocated by the caller.
 *  - nothing crosses this boundary but C: no exceptions, no longjmp.
 */
#ifndef MLNETMLP_H
#define MLNETMLP_H

#include <stdint.h>

#if defined(_WIN32)
#  if defined(MLNETMLP_BUILDING)
#    define MLP_API __declspec(dllexport)
#  else
#    define MLP_API __declspec(dllimport)
#  endif
#else
#  define MLP_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature, struct layout or enum value changes. */
#define MLP_ABI_VERSION 5

enum mlp_status {
    MLP_OK = 0,
    MLP_ERR_INVALID_ARGUMENT = 1, /* a size, pointer or enum was out of range */
    MLP_ERR_OUT_OF_MEMORY = 2,    /* an allocation failed */
    MLP_ERR_NOT_FINITE = 3,       /* training produced a NaN or infinite loss/weight */
    MLP_ERR_INTERNAL = 4,         /* a bug: please report */
    MLP_ERR_UNSUPPORTED = 5       /* the CPU lacks what the call needs (e.g. AVX512_BF16 for bfloat16) */
};

enum mlp_activation {
    MLP_ACT_IDENTITY = 0,
    MLP_ACT_RELU = 1,
    MLP_ACT_LEAKY_RELU = 2, /* slope 0.01 for negative inputs */
    MLP_ACT_TANH = 3,
    MLP_ACT_SIGMOID = 4,
    MLP_ACT_SELU = 5 /* scaled ELU (Klambauer et al. 2017): l x for x > 0, l a (e^x - 1) otherwise */
};
#define MLP_ACT_LAST MLP_ACT_SELU

/* The output layer and its loss. */
enum mlp_loss {
    MLP_LOSS_SOFTMAX_CROSS_ENTROPY = 0, /* multiclass; labels are int32 class indices */
    MLP_LOSS_SIGMOID_LOG_LOSS = 1,      /* binary; targets are 0/1 floats, one output */
    MLP_LOSS_HINGE = 2,                 /* binary; targets are 0/1 floats, one output */
    MLP_LOSS_SQUARED = 3,               /* regression; targets are floats, one per output */
    MLP_LOSS_HUBER = 4                  /* regression, robust: 0.5 d^2 for |d| <= 1, |d| - 0.5 beyond (d = z - y) */
};

enum mlp_optimizer {
    MLP_OPT_SGD = 0,
    MLP_OPT_ADAM = 1
};

/* What mlp_network_predict writes. */
enum mlp_output {
    MLP_OUTPUT_RAW = 0,        /* the output layer's pre-activation (logits / margin / value) */
    MLP_OUTPUT_PROBABILITY = 1 /* softmax or sigmoid of the raw output; raw for hinge/squared */
};

/* ---- library ---------------------------------------------------------------------------- */

MLP_API int32_t mlp_abi_version(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
MLP_API const char *mlp_last_error_message(void);
/* The kernel set in use: "avx512", "avx2" or "generic". MLNETMLP_ISA=generic forces the portable path,
 * MLNETMLP_ISA=avx2 caps the choice at AVX2. */
MLP_API const char *mlp_isa(void);
/* Threads used by GEMM and the training step; n <= 0 restores the default (all cores). */
MLP_API int32_t mlp_set_num_threads(int32_t n);
MLP_API int32_t mlp_get_num_threads(void);

/* ---- BLAS-like -------------------------------------------------------------------------- */

/* Row-major C = alpha*op(A)*op(B) + beta*C, op(A) m x k, op(B) k x n; trans_*: 0 none, 1 transpose.
 * beta == 0 never reads C (NaN in C is overwritten). Safe to call from several threads. */
MLP_API int32_t mlp_sgemm(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                          float beta, float *c, int64_t ldc);

/* 1 when this CPU runs the bfloat16 kernels (AVX512_BF16, as on AMD Zen 4 / Zen 5 and Intel Sapphire Rapids),
 * else 0 (also under MLNETMLP_ISA=avx2 or generic). */
MLP_API int32_t mlp_has_bfloat16(void);
/* mlp_sgemm with op(A) and op(B) rounded to bfloat16 (to nearest even) and the products accumulated in float32
 * (vdpbf16ps; inputs below the float32 normal range count as zero). MLP_ERR_UNSUPPORTED without mlp_has_bfloat16. */
MLP_API int32_t mlp_sgemm_bf16(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                               float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                               float beta, float *c, int64_t ldc);

/* ---- element-wise kernels (exported for tests and tools) --------------------------------- */

/* x[r, j] = act(x[r, j] + bias[j]) for r < rows, j < cols; bias may be NULL. */
MLP_API int32_t mlp_bias_activation_forward(int32_t activation, int64_t rows, int64_t cols,
                                            const float *bias, float *x, int64_t ldx);
/* grad[r, j] *= act'(at output h[r, j]): backprop through an activation given its output. */
MLP_API int32_t mlp_activation_backward(int32_t activation, int64_t rows, int64_t cols,
                                        const float *h, int64_t ldh, float *grad, int64_t ldg);
/* Mean (weighted) loss over rows and its gradient with respect to the raw outputs z
 * (gradient already divided by rows). weights may be NULL (all 1). For softmax cross-entropy
 * `labels` holds class indices and `targets` must be NULL; for the other losses the reverse. */
MLP_API int32_t mlp_loss_forward_backward(int32_t loss, int64_t rows, int64_t cols, const float *z,
                                          int64_t ldz, const int32_t *labels, const float *targets,
                                          const float *weights, float *grad, int64_t ldg,
                                          double *loss_out);

/* ---- sparse rows ------------------------------------------------------------------------------ */

/* Rows in compressed sparse row form: row r holds values[offsets[r] .. offsets[r + 1]) at columns
 * columns[offsets[r] .. offsets[r + 1]), strictly ascending within a row and each in [0, cols); values finite.
 * offsets has rows + 1 non-decreasing entries (offsets[0] may be > 0: a window into larger arrays). The calls that
 * take a CSR block check exactly the rows they read and reject a bad one (unsorted or duplicate or out-of-range
 * column, decreasing offsets, a non-finite value) with MLP_ERR_INVALID_ARGUMENT, naming it. */
typedef struct mlp_csr {
    int64_t rows;
    int64_t cols;
    const int64_t *offsets; /* rows + 1 */
    const int32_t *columns;
    const float *values;
} mlp_csr;

/* ---- networks ----------------------------------------------------------------------------- */

typedef struct mlp_network mlp_network;

/* layer_sizes has num_layers + 1 entries: input width, hidden widths..., output width.
 * num_layers == 1 is a linear model (softmax/logistic/linear regression). Weights start at 0;
 * call mlp_network_init to draw them. */
MLP_API int32_t mlp_network_create(int32_t num_layers, const int32_t *layer_sizes,
                                   int32_t hidden_activation, int32_t loss, mlp_network **out);
MLP_API int32_t mlp_network_destroy(mlp_network *net);
/* He-normal weights for ReLU-like activations, LeCun-normal for SELU, Glorot-uniform otherwise; biases 0. */
MLP_API int32_t mlp_network_init(mlp_network *net, uint64_t seed);
/* Layer l in [0, num_layers): weights row-major [in, out], biases [out]. */
MLP_API int32_t mlp_network_get_layer(const mlp_network *net, int32_t layer, float *weights,
                                      int64_t weight_count, float *biases, int64_t bias_count);
MLP_API int32_t mlp_network_set_layer(mlp_network *net, int32_t layer, const float *weights,
                                      int64_t weight_count, const float *biases, int64_t bias_count);
/* Scoring precision (enum mlp_precision). MLP_PRECISION_BFLOAT16 keeps bfloat16 copies of the weights of the layers
 * wider than 16 in and out and scores through them (float32 accumulation, biases and activations; half the bytes a
 * row streams); the float32 weights stay the network's, get/set_layer and training use them, set_layer and init
 * refresh the copies, and creating a trainer on the network returns it to float32 scoring. MLP_ERR_UNSUPPORTED without
 * AVX512_BF16. The workspace size does not depend on it. Not while another thread scores with the network. */
MLP_API int32_t mlp_network_set_scoring_precision(mlp_network *net, int32_t precision);
MLP_API int32_t mlp_network_get_scoring_precision(const mlp_network *net, int32_t *precision);
/* Floats of workspace that mlp_network_predict needs for `rows` rows. */
MLP_API int32_t mlp_network_workspace_size(const mlp_network *net, int64_t rows, int64_t *count);
/* out[r, :] = network(x[r, :]) for r < rows. Reentrant: uses only the caller's workspace, so
 * several threads may score with one network at once (each with its own workspace). threads: 0 = the
 * library setting, else at most that many (scoring uses at most 2; small networks use 1). A row scores
 * bit-identically whatever the thread count and whether it is scored alone or in a batch. */
MLP_API int32_t mlp_network_predict(const mlp_network *net, const float *x, int64_t ldx, int64_t rows,
                                    int32_t output, float *out, int64_t ldo, float *workspace,
                                    int64_t workspace_count, int32_t threads);
/* mlp_network_predict for sparse rows: the first layer sums value * W1[column, :] over each row's nonzeros (no
 * densified copy); x->cols must equal the network's inputs. Workspace: mlp_network_workspace_size for the rows. */
MLP_API int32_t mlp_network_predict_csr(const mlp_network *net, const mlp_csr *x, int32_t output, float *out,
                                        int64_t ldo, float *workspace, int64_t workspace_count, int32_t threads);
/* *all_finite = 1 when every weight and bias is a finite number, else 0. */
MLP_API int32_t mlp_network_all_finite(const mlp_network *net, int32_t *all_finite);

/* ---- input preprocessing ------------------------------------------------------------------------ */

/* A per-column transform of raw input rows into the network's inputs, fitted by the caller on the training rows:
 * for raw column j, a value that is not finite (NaN, +-inf) is missing and becomes fill[j]; then
 * z = (v - center[j]) * scale[j]; with smooth_clip, z is clamped to +-1e18 and squashed to z / sqrt(1 + (z/3)^2),
 * a smooth map onto (-3, 3). The outputs are the `inputs` transformed columns followed by one 0/1 missing
 * indicator per entry of indicator_columns (ascending raw columns). Scale 0 maps a column to 0 (constant columns). */
typedef struct mlp_preprocess_spec {
    int32_t struct_size;               /* sizeof(mlp_preprocess_spec) */
    int32_t inputs;                    /* raw columns, >= 1 */
    const float *fill;                 /* [inputs], finite */
    const float *center;               /* [inputs], finite; NULL = 0 */
    const float *scale;                /* [inputs], finite; NULL = 1 */
    int32_t smooth_clip;               /* 0 or 1 */
    int32_t indicator_count;           /* in [0, inputs] */
    const int32_t *indicator_columns;  /* [indicator_count], strictly ascending in [0, inputs) */
} mlp_preprocess_spec;

typedef struct mlp_preprocessor mlp_preprocessor;

/* Copies the spec's arrays; the spec may be freed afterwards. */
MLP_API int32_t mlp_preprocessor_create(const mlp_preprocess_spec *spec, mlp_preprocessor **out);
MLP_API int32_t mlp_preprocessor_destroy(mlp_preprocessor *p);
/* *inputs = raw columns, *outputs = inputs + indicator_count. */
MLP_API int32_t mlp_preprocessor_shape(const mlp_preprocessor *p, int32_t *inputs, int32_t *outputs);
/* out[r, :] = transform(x[r, :]) for r < rows. out may be x itself (in place) when ldo >= ldx; otherwise the two
 * must not overlap. *missing_count (may be NULL) is increased by the number of missing raw values seen.
 * Reentrant: a preprocessor may be used by several threads at once. */
MLP_API int32_t mlp_preprocess(const mlp_preprocessor *p, const float *x, int64_t ldx, int64_t rows, float *out,
                               int64_t ldo, int64_t *missing_count);

/* The same transform on the nonzeros of sparse rows, in place: values[k] becomes the transform of itself in column
 * columns[k] (a missing value becomes fill, as in mlp_preprocess). Only for a preprocessor that keeps zeros zero and
 * adds no columns (every center and fill 0, no indicators): otherwise MLP_ERR_INVALID_ARGUMENT (densify the rows and
 * use mlp_preprocess). Columns must be in [0, inputs). *missing_count as in mlp_preprocess. */
MLP_API int32_t mlp_preprocess_csr(const mlp_preprocessor *p, const int32_t *columns, float *values, int64_t count,
                                   int64_t *missing_count);

/* ---- training ------------------------------------------------------------------------------ */

typedef struct mlp_train_config {
    int32_t struct_size;      /* sizeof(mlp_train_config): guards against layout mismatch */
    int32_t optimizer;        /* enum mlp_optimizer */
    float learning_rate;
    float momentum;           /* SGD; 0 = plain SGD */
    int32_t nesterov;         /* SGD; 1 = Nesterov momentum */
    float beta1, beta2, epsilon; /* Adam */
    float l2;                 /* L2 penalty on weights (not biases), added to the gradient */
    float weight_decay;       /* decoupled weight decay (AdamW style, SGD too): w -= learning_rate * weight_decay * w
                                 before each step; weights only, not part of the gradient */
    int32_t max_batch_rows;   /* the largest batch mlp_trainer_step will see */
    int32_t num_threads;      /* 0 = mlp_get_num_threads() */
    float dropout_rate;       /* in [0, 1): inverted dropout on hidden layers while training; 0 = off */
    float label_smoothing;    /* in [0, 1): classification targets (1 - e) y + e / K (K classes; 2 for the binary
                                 losses) while training; evaluation reports the plain loss. 0 = off */
    uint64_t seed;            /* dropout masks: a function of (seed, step, layer, row in batch, unit) */
    int32_t input_scale;      /* 1: train a per-input scale s (starting at 1) in front of the first layer, a
                                 reparametrization that lets each input's weight scale move at its own rate
                                 (RealMLP's scaling layer). The network always holds the folded weights diag(s) W1,
                                 so it scores without s; do not change layer 0 while the trainer lives. */
    float input_scale_rate;   /* the input scale's learning-rate factor (> 0; no weight decay); ignored without it */
    int32_t sparse_input;     /* 1: batches come as CSR rows (mlp_trainer_step_csr); the first layer's gradient is
                                 row-sparse and its optimizer updates lazy (see mlp_trainer_step_csr); 0: dense */
    int32_t precision;        /* enum mlp_precision: MLP_PRECISION_BFLOAT16 runs the training GEMMs on bfloat16
                                 copies of weights and activations with float32 accumulation (AVX512_BF16 only:
                                 MLP_ERR_UNSUPPORTED elsewhere); weights, gradients and optimizer state stay float32 */
    int32_t reserved;         /* must be 0 */
} mlp_train_config;

enum mlp_precision {
    MLP_PRECISION_FLOAT32 = 0,
    MLP_PRECISION_BFLOAT16 = 1
};

typedef struct mlp_trainer mlp_trainer;

/* The trainer updates `net` in place and keeps optimizer state and workspaces; `net` must
 * outlive it. One trainer must not be used by two threads at once. */
MLP_API int32_t mlp_trainer_create(mlp_network *net, const mlp_train_config *config, mlp_trainer **out);
MLP_API int32_t mlp_trainer_destroy(mlp_trainer *trainer);
MLP_API int32_t mlp_trainer_set_learning_rate(mlp_trainer *trainer, float learning_rate);
/* Per-layer learning-rate factors (all 1 at creation): layer l's weights step with learning_rate * weight_factors[l],
 * its biases with learning_rate * bias_factors[l]; decoupled weight decay follows the same rate. layers must be
 * the network's layer count; factors finite and > 0, with every weight rate * weight_decay below 1. */
MLP_API int32_t mlp_trainer_set_rate_factors(mlp_trainer *trainer, int32_t layers, const float *weight_factors,
                                             const float *bias_factors);
/* Changes dropout_rate and weight_decay between steps (schedules); the same rules as in mlp_train_config. */
MLP_API int32_t mlp_trainer_set_regularization(mlp_trainer *trainer, float dropout_rate, float weight_decay);
/* One minibatch: gather rows row_indices[0..batch_rows) of x (x_rows rows; rows 0..batch_rows when
 * row_indices is NULL), forward, loss, backward, update. labels (softmax) or targets (other losses,
 * `outputs` floats per row) and weights (may be NULL) are indexed the same way as x.
 * *loss_out = mean weighted data loss of the batch before the update (without the L2 term).
 * With update == 0 only the gradients are computed (see mlp_trainer_get_gradient). */
MLP_API int32_t mlp_trainer_step(mlp_trainer *trainer, const float *x, int64_t ldx, int64_t x_rows,
                                 const int32_t *row_indices, int32_t batch_rows,
                                 const int32_t *labels, const float *targets, const float *weights,
                                 int32_t update, double *loss_out);
/* mlp_trainer_step for a trainer created with sparse_input: the batch is rows row_indices[0..batch_rows) of x (rows
 * 0..batch_rows when row_indices is NULL); labels, targets and weights are indexed the same way. Only the first-layer
 * weight rows of columns present in the batch are updated ("lazy", as PyTorch's SparseAdam): their Adam moments (or
 * SGD velocity) advance only on steps that touch them, the bias correction uses the global step count, and the
 * coupled L2 term applies only to touched rows; the decoupled weight decay is exact: a row untouched for some steps
 * is first shrunk by the product of the (1 - rate * weight_decay) factors it missed. Biases and later layers update
 * densely as usual. */
MLP_API int32_t mlp_trainer_step_csr(mlp_trainer *trainer, const mlp_csr *x, const int32_t *row_indices,
                                     int32_t batch_rows, const int32_t *labels, const float *targets,
                                     const float *weights, int32_t update, double *loss_out);
/* mlp_trainer_evaluate for sparse rows (any trainer of the network's input width). */
MLP_API int32_t mlp_trainer_evaluate_csr(mlp_trainer *trainer, const mlp_csr *x, const int32_t *row_indices,
                                         int64_t rows, const int32_t *labels, const float *targets,
                                         const float *weights, double *loss_sum, double *metric_sum,
                                         double *weight_sum);
/* Applies the weight decay that lazy updates still owe to untouched first-layer rows, so that the network holds the
 * weights dense training would have (call before reading or saving the weights; evaluation does it itself). */
MLP_API int32_t mlp_trainer_sync(mlp_trainer *trainer);
/* The trainer's own gradient buffer, for data-parallel training: after mlp_trainer_step (update 0 or 1) it holds the
 * data-loss gradient of that batch for every parameter, in the network's parameter order (per layer its weights, then
 * its biases; *count floats), as a mean over the batch's rows (scaled by 1 / batch_rows); no L2 term and no weight
 * decay, which the update adds. The caller may rewrite it in place (e.g. sum it across processes, each share scaled
 * by its rows / the global batch's rows) and then call mlp_trainer_apply_gradient. A sparse-input trainer's buffer
 * starts after the first layer's weights (their gradient is row-sparse: mlp_trainer_sparse_gradient). */
MLP_API int32_t mlp_trainer_gradient_buffer(mlp_trainer *trainer, float **gradient, int64_t *count);
/* The optimizer update from the gradient buffer: exactly the update mlp_trainer_step(update = 1) makes after its
 * backward pass (step size, bias correction and step count, L2, weight decay, rate factors, input scale). Fails with
 * MLP_ERR_NOT_FINITE, changing nothing, when the buffer holds a NaN or infinity. Dense-input trainers only. */
MLP_API int32_t mlp_trainer_apply_gradient(mlp_trainer *trainer);
/* Sparse-input trainers, data-parallel: after mlp_trainer_step_csr (update 0) the first layer's gradient is *count rows
 * (one per column the batch touched, *columns ascending) of sizes[1] floats at *rows, scaled like the gradient buffer.
 * The arrays are the trainer's own, valid until its next call. */
MLP_API int32_t mlp_trainer_sparse_gradient(mlp_trainer *trainer, const int32_t **columns, float **rows, int64_t *count);
/* The update of a sparse-input trainer from the gradient buffer and a first-layer gradient of `count` rows for the
 * given columns (distinct, ascending; e.g. the union of several processes' batches with their summed rows, or the
 * trainer's own arrays): exactly the update mlp_trainer_step_csr(update = 1) makes when the columns are its batch's
 * (the rows it lists get their lazy weight decay and the optimizer step, the others owe the step's decay). Fails
 * with MLP_ERR_NOT_FINITE, changing nothing, when a gradient value is a NaN or infinity. */
MLP_API int32_t mlp_trainer_apply_sparse_gradient(mlp_trainer *trainer, const int32_t *columns, const float *rows,
                                                  int64_t count);
/* Checkpoints: the trainer's optimizer state as bytes (Adam's step count and moments or SGD's velocity, the input
 * scales with their moments and raw first-layer weights, a sparse first layer's lazy weight-decay bookkeeping). With
 * the network's weights it resumes training exactly where it stopped: restore the weights, create a trainer of the
 * same configuration, then mlp_trainer_set_state. mlp_trainer_state_size gives the bytes; mlp_trainer_get_state
 * writes exactly that many, or fails with MLP_ERR_NOT_FINITE when a value is not finite (a diverged trainer, whose
 * state could not be resumed); mlp_trainer_set_state checks the layout, the sizes and that every value is finite (a
 * failure changes nothing). */
MLP_API int32_t mlp_trainer_state_size(const mlp_trainer *trainer, int64_t *bytes);
MLP_API int32_t mlp_trainer_get_state(const mlp_trainer *trainer, void *state, int64_t bytes);
MLP_API int32_t mlp_trainer_set_state(mlp_trainer *trainer, const void *state, int64_t bytes);
/* The gradient of the last step's loss (including the coupled L2 term) for layer l. */
MLP_API int32_t mlp_trainer_get_gradient(const mlp_trainer *trainer, int32_t layer, float *weights,
                                         int64_t weight_count, float *biases, int64_t bias_count);
/* Loss and metric over a whole set, in batches: *loss_sum = sum of weighted losses,
 * *metric_sum = weighted count of correct predictions (classification) or sum of weighted
 * squared errors (regression), *weight_sum = sum of weights. */
MLP_API int32_t mlp_trainer_evaluate(mlp_trainer *trainer, const float *x, int64_t ldx, int64_t x_rows,
                                     const int32_t *row_indices, int64_t rows, const int32_t *labels,
                                     const float *targets, const float *weights, double *loss_sum,
                                     double *metric_sum, double *weight_sum);

#ifdef __cplusplus
}
#endif

#endif /* MLNETMLP_H */
