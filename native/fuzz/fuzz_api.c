/* libFuzzer harness for the argument checking of the C ABI: every call either returns an error status for
 * arguments that an independent predicate calls invalid, or succeeds on valid ones, and never touches memory it
 * was not given (AddressSanitizer). Exercises mlp_sgemm, network creation/scoring, the training step with its
 * options and setters, and the input preprocessor. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlnetmlp.h"

enum { BUF = 1 << 14 };
static float buf_a[BUF], buf_b[BUF], buf_c[BUF];

typedef struct reader { const uint8_t *p; size_t n; } reader;

static uint8_t byte(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

/* Sizes that matter: small ones, zero, negative, and values that overflow extents. */
static int64_t size_of(reader *r)
{
    static const int64_t special[] = {-1, -7, 0, (int64_t)1 << 40, INT64_MAX, (int64_t)1 << 31, 1 << 24, 4096};
    const uint8_t b = byte(r);
    return b < 0xF8 ? (int64_t)(b % 70) : special[b - 0xF8];
}

static float value_of(reader *r)
{
    const uint8_t b = byte(r);
    if (b == 0xFF) return NAN;
    if (b == 0xFE) return INFINITY;
    return (float)(b % 16) / 4.0f - 1.0f;
}

#include <stdio.h>
/* a broken property: the line is printed, then abort (which libFuzzer reports with the input) */
static void fail_at(int line)
{
    fprintf(stderr, "fuzz property failed at line %d\n", line);
    abort();
}
#define fail() fail_at(__LINE__)

static int fits(int64_t rows, int64_t ld)
{
    return rows == 0 || (rows <= BUF && ld <= BUF && rows * ld <= BUF);
}

static void fuzz_sgemm(reader *r)
{
    const int32_t ta = (int32_t)(byte(r) % 4) - 1, tb = (int32_t)(byte(r) % 4) - 1;
    const int64_t m = size_of(r), n = size_of(r), k = size_of(r);
    const int64_t lda = size_of(r), ldb = size_of(r), ldc = size_of(r);
    const uint8_t nulls = byte(r);
    const float alpha = value_of(r), beta = value_of(r);
    int valid = (ta == 0 || ta == 1) && (tb == 0 || tb == 1) && m >= 0 && n >= 0 && k >= 0;
    const int64_t a_rows = m > 0 ? (ta ? k : m) : 0, a_cols = ta ? m : k;
    const int64_t b_rows = n > 0 ? (tb ? n : k) : 0, b_cols = tb ? k : n;
    valid = valid && lda >= (a_cols > 1 ? a_cols : 1) && ldb >= (b_cols > 1 ? b_cols : 1) && ldc >= (n > 1 ? n : 1);
    const float *a = nulls & 1 ? NULL : buf_a, *b = nulls & 2 ? NULL : buf_b;
    float *c = nulls & 4 ? NULL : buf_c;
    valid = valid && !(a_rows > 0 && a_cols > 0 && !a) && !(b_rows > 0 && b_cols > 0 && !b) && !(m > 0 && n > 0 && !c);
    if (valid && !(fits(a_rows, lda) && fits(b_rows, ldb) && fits(m, ldc)))
        return; /* valid, but larger than the buffers this harness owns: the API cannot know buffer sizes */
    const int32_t status = mlp_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if ((status == MLP_OK) != valid) fail();
    /* the bfloat16 GEMM checks the same arguments, or refuses the call on a CPU without AVX512_BF16 */
    const int32_t bf16 = mlp_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (mlp_has_bfloat16() ? (bf16 == MLP_OK) != valid : bf16 != MLP_ERR_UNSUPPORTED) fail();
}

static void fuzz_network(reader *r)
{
    int32_t sizes[6];
    const int32_t layers = (int32_t)(byte(r) % 7) - 1;
    for (int i = 0; i < 6; ++i) {
        const int64_t s = size_of(r);
        sizes[i] = (int32_t)(s > INT32_MAX ? -1 : s);
    }
    const int32_t act = (int32_t)(byte(r) % 7) - 1, loss = (int32_t)(byte(r) % 6) - 1;
    if (layers >= 1) { /* a valid network of more than 2^22 parameters is a legitimate multi-GB allocation: skip */
        double params = 0;
        int sane = 1;
        for (int l = 0; l < layers; ++l) {
            sane = sane && sizes[l] > 0 && sizes[l + 1] > 0;
            params += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
        }
        if (sane && params > (1 << 22) && params <= 2147483647.0) return;
    }
    mlp_network *net = NULL;
    if (mlp_network_create(layers, sizes, act, loss, &net) != MLP_OK) {
        if (net) fail();
        return;
    }
    int64_t params = 0;
    for (int l = 0; l < layers; ++l) params += (int64_t)sizes[l] * sizes[l + 1] + sizes[l + 1];
    if (params > BUF) { /* keep the harness fast: big networks only test creation */
        mlp_network_destroy(net);
        return;
    }
    mlp_network_init(net, byte(r));
    const int64_t rows = size_of(r) % 40;
    int64_t ws = 0;
    if (mlp_network_workspace_size(net, rows, &ws) == MLP_OK && ws <= BUF && rows * sizes[0] <= BUF &&
        rows * sizes[layers] <= BUF) {
        const int64_t given = ws - (byte(r) & 1);
        const int32_t st = mlp_network_predict(net, buf_a, sizes[0], rows, byte(r) % 3, buf_c, sizes[layers], buf_b, given,
                                               byte(r) % 4);
        if (rows > 0 && given < ws && st == MLP_OK) fail();
    }
    mlp_train_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = byte(r) & 1 ? (int32_t)sizeof c : 40;
    c.optimizer = (int32_t)(byte(r) % 3);
    c.learning_rate = value_of(r);
    c.momentum = value_of(r) * 0.5f + 0.25f;
    c.beta1 = 0.9f, c.beta2 = 0.999f, c.epsilon = 1e-8f;
    c.l2 = value_of(r);
    c.weight_decay = value_of(r);
    c.dropout_rate = value_of(r);
    c.max_batch_rows = (int32_t)(size_of(r) % 40);
    c.num_threads = (int32_t)(byte(r) % 4);
    c.label_smoothing = value_of(r);
    c.input_scale = (int32_t)(byte(r) % 3);
    c.input_scale_rate = value_of(r) + 1.0f;
    c.precision = (int32_t)(byte(r) % 3);
    mlp_trainer *t = NULL;
    if (mlp_trainer_create(net, &c, &t) == MLP_OK) {
        if (!(c.label_smoothing >= 0.0f && c.label_smoothing < 1.0f) || c.input_scale > 1) fail();
        if (c.precision > 1 || (c.precision == MLP_PRECISION_BFLOAT16 && !mlp_has_bfloat16())) fail();
        float wf[6], bf[6];
        for (int i = 0; i < 6; ++i) wf[i] = value_of(r) + 1.0f, bf[i] = value_of(r) + 1.0f;
        const int32_t given_layers = (int32_t)(byte(r) % 8);
        int factors_ok = given_layers == layers;
        for (int i = 0; i < given_layers && i < 6; ++i) factors_ok = factors_ok && wf[i] > 0.0f && bf[i] > 0.0f && isfinite(wf[i]) && isfinite(bf[i]);
        const int32_t fs = mlp_trainer_set_rate_factors(t, given_layers, given_layers <= 6 ? wf : NULL, bf);
        if (fs == MLP_OK && !factors_ok) fail();
        const float dropout = value_of(r), decay = value_of(r);
        const int32_t rs = mlp_trainer_set_regularization(t, dropout, decay);
        if (rs == MLP_OK && !(dropout >= 0.0f && dropout < 1.0f && decay >= 0.0f && isfinite(decay))) fail();
        int32_t idx[40], labels[40];
        for (int i = 0; i < 40; ++i) idx[i] = (int32_t)(byte(r) % 48) - 4, labels[i] = (int32_t)(byte(r) % 12) - 1;
        /* x (x_rows x inputs) and the targets (x_rows x outputs) must both fit their buffers: the API cannot
         * check the length of a raw pointer */
        const int64_t widest_io = sizes[0] > sizes[layers] ? sizes[0] : sizes[layers];
        const int64_t x_rows = BUF / (widest_io > 0 ? widest_io : 1) < 40 ? BUF / widest_io : 40;
        double loss_out;
        const int softmax = loss == MLP_LOSS_SOFTMAX_CROSS_ENTROPY;
        /* two steps: the second one's forward multiplies by the bf16 weight copy the first one's update kept (or,
         * after set_layer, by freshly packed weights) */
        for (int step = 0; step < 2; ++step) {
            mlp_trainer_step(t, buf_a, sizes[0], x_rows, byte(r) & 1 ? idx : NULL, (int32_t)(size_of(r) % 41),
                             softmax ? labels : NULL, softmax ? NULL : buf_b, byte(r) & 1 ? buf_b : NULL, byte(r) & 1, &loss_out);
            if (step == 0 && byte(r) % 4 == 0 && (int64_t)sizes[0] * sizes[1] + sizes[1] <= BUF) {
                mlp_network_get_layer(net, 0, buf_c, (int64_t)sizes[0] * sizes[1], buf_c + BUF - sizes[1], sizes[1]);
                mlp_network_set_layer(net, 0, buf_c, (int64_t)sizes[0] * sizes[1], buf_c + BUF - sizes[1], sizes[1]);
            }
        }
        /* the data-parallel split: the buffer is the network's size; a fuzzed buffer is applied exactly when finite */
        float *grad = NULL;
        int64_t grad_count = -1;
        if (mlp_trainer_gradient_buffer(t, byte(r) & 7 ? &grad : NULL, &grad_count) == MLP_OK) {
            if (!grad || grad_count <= 0) fail();
            int finite = 1;
            for (int i = 0; i < 4 && i < grad_count; ++i) {
                grad[((uint64_t)size_of(r) * 7919u + (uint64_t)i) % (uint64_t)grad_count] = value_of(r);
            }
            for (int64_t i = 0; i < grad_count; ++i) finite = finite && isfinite(grad[i]);
            const int32_t as = mlp_trainer_apply_gradient(t);
            if ((as == MLP_OK) != finite) fail();
        }
        /* checkpoints: the trainer's own state round-trips; a corrupted copy is refused or, when accepted, leaves a
         * state that reads back as exactly the bytes given */
        int64_t state_bytes = 0;
        if (mlp_trainer_state_size(t, &state_bytes) != MLP_OK || state_bytes <= 0) fail();
        unsigned char *state = malloc((size_t)state_bytes), *back = malloc((size_t)state_bytes);
        if (!state || !back) abort();
        /* a diverged trainer's state (non-finite moments) is refused on the way out, so what get_state gives is
         * always accepted back */
        const int32_t gs = mlp_trainer_get_state(t, state, state_bytes);
        if (gs != MLP_OK && gs != MLP_ERR_NOT_FINITE) fail();
        if (gs == MLP_OK) {
            if (mlp_trainer_set_state(t, state, state_bytes) != MLP_OK) fail();
            for (int i = 0; i < 3; ++i) state[((uint64_t)size_of(r) * 31u + (uint64_t)i) % (uint64_t)state_bytes] ^= byte(r);
            const int64_t given_bytes = state_bytes - (byte(r) % 2);
            if (mlp_trainer_set_state(t, state, given_bytes) == MLP_OK) {
                if (given_bytes != state_bytes || mlp_trainer_get_state(t, back, state_bytes) != MLP_OK ||
                    memcmp(state, back, (size_t)state_bytes) != 0)
                    fail();
            }
        }
        free(state);
        free(back);
        mlp_trainer_destroy(t);
    } else if (t) {
        fail();
    }
    mlp_network_destroy(net);
}

/* mlp_preprocessor_create / mlp_preprocess: a spec is accepted exactly when the independent predicate says so, and
 * preprocessing never writes past the rows it was given. */
static void fuzz_preprocess(reader *r)
{
    /* as long as any inputs the harness asks for (up to 67): the API cannot check a raw pointer's length */
    static float fill[70], center[70], scale[70];
    static int32_t columns[70];
    const int32_t inputs = (int32_t)(byte(r) % 70) - 2, count = (int32_t)(byte(r) % 70) - 2;
    for (int i = 0; i < 70; ++i) fill[i] = value_of(r), center[i] = value_of(r), scale[i] = value_of(r), columns[i] = (int32_t)(byte(r) % 72) - 4;
    mlp_preprocess_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = byte(r) % 8 ? (int32_t)sizeof s : 8;
    s.inputs = inputs;
    const uint8_t flags = byte(r);
    s.fill = flags & 1 ? NULL : fill;
    s.center = flags & 2 ? NULL : center;
    s.scale = flags & 4 ? NULL : scale;
    s.smooth_clip = (int32_t)(byte(r) % 3);
    s.indicator_count = count;
    s.indicator_columns = flags & 8 ? NULL : columns;
    int valid = s.struct_size == (int32_t)sizeof s && inputs >= 1 && s.smooth_clip <= 1 && count >= 0 &&
                count <= inputs && s.fill && (count == 0 || s.indicator_columns);
    for (int j = 0; valid && j < inputs; ++j)
        valid = isfinite(fill[j]) && (!s.center || isfinite(center[j])) && (!s.scale || isfinite(scale[j]));
    for (int i = 0; valid && i < count; ++i)
        valid = columns[i] >= 0 && columns[i] < inputs && (i == 0 || columns[i] > columns[i - 1]);
    mlp_preprocessor *p = NULL;
    const int32_t status = mlp_preprocessor_create(&s, &p);
    if ((status == MLP_OK) != valid || (status != MLP_OK && p)) fail();
    if (!p) return;
    const int64_t rows = size_of(r) % 40, ldx = size_of(r), ldo = size_of(r);
    const int in_place = byte(r) & 1;
    const int64_t outputs = (int64_t)inputs + count;
    if (rows * (ldx > ldo ? ldx : ldo) > BUF) {
        mlp_preprocessor_destroy(p);
        return;
    }
    int64_t missing = 0;
    const int32_t st = mlp_preprocess(p, buf_a, ldx, rows, in_place ? buf_a : buf_c, ldo, &missing);
    const int ok = ldx >= inputs && ldo >= outputs && (!in_place || ldo >= ldx);
    if ((st == MLP_OK) != ok && rows > 0) fail();
    if (st == MLP_OK && (missing < 0 || missing > rows * inputs)) fail();
    mlp_preprocessor_destroy(p);
}

/* The CSR calls: a block built from fuzz bytes (offsets, columns, values that may be out of order, repeated, out of
 * range or NaN) is accepted exactly when an independent check of the rows read says it is valid; scoring and a
 * training step never read outside the arrays (AddressSanitizer). */
static void fuzz_csr(reader *r)
{
    enum { ROWS = 12, NNZ = 64 };
    static int64_t offsets[ROWS + 1];
    static int32_t columns[NNZ], labels[ROWS], idx[ROWS];
    static float values[NNZ];
    const int32_t inputs = (int32_t)(byte(r) % 40) + 1, hidden = (int32_t)(byte(r) % 9) + 1;
    const int64_t rows = byte(r) % (ROWS + 1);
    int64_t k = 0;
    offsets[0] = byte(r) % 3; /* a window may start past 0 */
    for (int64_t i = 0; i < rows; ++i) {
        const uint8_t step = byte(r);
        int64_t next = offsets[i] + (step % 6);
        if (step == 0xFF) next = offsets[i] - 1; /* decreasing */
        if (next > NNZ) next = NNZ;
        offsets[i + 1] = next;
    }
    for (k = 0; k < NNZ; ++k) columns[k] = (int32_t)(byte(r) % (inputs + 4)) - 2, values[k] = value_of(r);
    for (int i = 0; i < ROWS; ++i) labels[i] = byte(r) % 3, idx[i] = (int32_t)(byte(r) % (ROWS + 2)) - 1;
    const int use_idx = byte(r) & 1;
    const int64_t count = byte(r) % (ROWS + 1);
    mlp_csr x = {rows, inputs, offsets, columns, values};
    /* the independent predicate over the rows a call reads */
    int valid = 1;
    for (int64_t i = 0; i < count && valid; ++i) {
        const int64_t row = use_idx ? idx[i] : i;
        valid = row >= 0 && row < rows;
        if (!valid) break;
        const int64_t lo = offsets[row], hi = offsets[row + 1];
        valid = lo >= 0 && hi >= lo && hi <= NNZ;
        for (int64_t q = lo; valid && q < hi; ++q)
            valid = columns[q] >= 0 && columns[q] < inputs && (q == lo || columns[q] > columns[q - 1]) && isfinite(values[q]);
    }
    const int32_t sizes[3] = {inputs, hidden, 3};
    mlp_network *net = NULL;
    if (mlp_network_create(2, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net) != MLP_OK) fail();
    mlp_network_init(net, 1);
    if (!use_idx && count == rows) { /* scoring reads every row */
        int64_t ws = 0;
        mlp_network_workspace_size(net, rows, &ws);
        if (ws <= BUF) {
            const int32_t st = mlp_network_predict_csr(net, &x, MLP_OUTPUT_PROBABILITY, buf_c, 3, buf_b, ws, 1);
            if ((st == MLP_OK) != valid) fail();
        }
    }
    mlp_train_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = (int32_t)sizeof c;
    c.optimizer = MLP_OPT_ADAM, c.learning_rate = 0.01f, c.beta1 = 0.9f, c.beta2 = 0.95f, c.epsilon = 1e-8f;
    c.weight_decay = 0.1f, c.max_batch_rows = ROWS, c.num_threads = 1 + (byte(r) & 1), c.sparse_input = 1;
    c.input_scale = byte(r) & 1, c.input_scale_rate = 2.0f;
    mlp_trainer *t = NULL;
    if (mlp_trainer_create(net, &c, &t) != MLP_OK) fail();
    double loss;
    const int32_t st = mlp_trainer_step_csr(t, &x, use_idx ? idx : NULL, (int32_t)count, labels, NULL, NULL, 1, &loss);
    if (count >= 1 && (st == MLP_OK) != valid) fail();
    double ls, ms, wsum;
    const int32_t ev = mlp_trainer_evaluate_csr(t, &x, use_idx ? idx : NULL, count, labels, NULL, NULL, &ls, &ms, &wsum);
    if ((ev == MLP_OK) != valid) fail();
    /* the data-parallel split: a fuzzed union of columns and rows is applied exactly when the columns are distinct,
     * ascending and in range and every value is finite */
    const int32_t *own_cols;
    float *own_rows;
    int64_t own_count;
    if (mlp_trainer_sparse_gradient(t, &own_cols, &own_rows, &own_count) != MLP_OK || own_count < 0) fail();
    static int32_t union_cols[16];
    const int64_t union_count = (int64_t)(byte(r) % 17) - (byte(r) == 0xFF);
    int union_ok = union_count >= 0 && union_count <= inputs;
    for (int64_t i = 0; i < 16; ++i) union_cols[i] = (int32_t)(byte(r) % (inputs + 3)) - 1;
    for (int64_t i = 0; union_ok && i < union_count; ++i)
        union_ok = union_cols[i] >= 0 && union_cols[i] < inputs && (i == 0 || union_cols[i] > union_cols[i - 1]);
    for (int64_t i = 0; union_ok && i < union_count * hidden; ++i) union_ok = isfinite(buf_a[i]);
    float *dense;
    int64_t dense_count;
    if (mlp_trainer_gradient_buffer(t, &dense, &dense_count) != MLP_OK) fail();
    for (int64_t i = 0; union_ok && i < dense_count; ++i) union_ok = isfinite(dense[i]);
    const int32_t as = mlp_trainer_apply_sparse_gradient(t, union_cols, buf_a, union_count);
    if ((as == MLP_OK) != union_ok) fail();
    if (mlp_trainer_sync(t) != MLP_OK) fail();
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    for (int i = 0; i < BUF; ++i) buf_a[i] = buf_b[i] = (float)(i % 7) * 0.25f;
    switch (byte(&r) % 4) {
    case 0: fuzz_sgemm(&r); break;
    case 1: fuzz_preprocess(&r); break;
    case 2: fuzz_csr(&r); break;
    default: fuzz_network(&r); break;
    }
    return 0;
}
