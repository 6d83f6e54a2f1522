/* Sparse (CSR) inputs: argument checks, scoring against the densified rows, training against dense training where the
 * semantics agree (every row touched, or plain SGD), the lazy updates' documented differences, the exact weight-decay
 * catch-up, a finite-difference check of the row-sparse gradient, and determinism across thread counts. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

enum { IN = 23, H = 9, OUT = 3, N = 40 };

/* N rows of IN columns, each with a few nonzeros (about 1 in 4); `all` adds column c = r % IN... when every column
 * must appear in every batch, all columns get a nonzero. Fills the CSR arrays and the dense copy. */
typedef struct data {
    int64_t offsets[N + 1];
    int32_t columns[N * IN];
    float values[N * IN];
    float dense[N * IN];
    int32_t labels[N];
    mlp_csr csr;
} data;

static void make_data(data *d, int every_column, uint64_t seed)
{
    int64_t k = 0;
    memset(d->dense, 0, sizeof d->dense);
    for (int r = 0; r < N; ++r) {
        d->offsets[r] = k;
        for (int c = 0; c < IN; ++c) {
            const int keep = every_column || (test_rng_next(&seed) % 4 == 0) || c == r % IN;
            if (!keep) continue;
            const float v = 2.0f * test_uniform(&seed);
            d->columns[k] = c;
            d->values[k] = v;
            d->dense[r * IN + c] = v;
            ++k;
        }
        d->labels[r] = r % OUT;
    }
    d->offsets[N] = k;
    const mlp_csr csr = {N, IN, d->offsets, d->columns, d->values};
    d->csr = csr;
}

static mlp_network *make_net(int act)
{
    const int32_t sizes[3] = {IN, H, OUT};
    mlp_network *net = NULL;
    CHECK_OK(mlp_network_create(2, sizes, act, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 3));
    return net;
}

static void get_w1(mlp_network *net, float *w)
{
    float b[H];
    CHECK_OK(mlp_network_get_layer(net, 0, w, IN * H, b, H));
}

static void test_checks(void)
{
    mlp_network *net = make_net(MLP_ACT_RELU);
    int64_t off[3] = {0, 2, 3};
    int32_t cols[3] = {1, 4, 2};
    float vals[3] = {1, 2, 3}, out[2 * OUT], ws[4096];
    mlp_csr x = {2, IN, off, cols, vals};
    CHECK_OK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1));
    cols[1] = 1;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "duplicate column");
    CHECK(strstr(mlp_last_error_message(), "repeated") != NULL, "message: %s", mlp_last_error_message());
    cols[0] = 4;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "unsorted columns");
    cols[0] = 1, cols[1] = IN;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "column out of range");
    cols[1] = -1;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "negative column");
    cols[1] = 4, vals[2] = NAN;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "NaN value");
    vals[2] = 3, off[1] = 4;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "decreasing offsets");
    off[1] = 2;
    x.cols = IN + 1;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "width mismatch");
    x.cols = IN;
    x.offsets = NULL;
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "NULL offsets");
    x.offsets = off;
    CHECK(mlp_network_predict_csr(net, NULL, MLP_OUTPUT_RAW, out, OUT, ws, 4096, 1) == MLP_ERR_INVALID_ARGUMENT, "NULL block");
    CHECK(mlp_network_predict_csr(net, &x, MLP_OUTPUT_RAW, out, OUT, ws, 1, 1) == MLP_ERR_INVALID_ARGUMENT, "small workspace");

    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.01f, 4, 1);
    mlp_trainer *t = NULL;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double loss;
    const int32_t labels[2] = {0, 1}, bad_rows[2] = {0, 2};
    float dense[2 * IN] = {0};
    CHECK(mlp_trainer_step_csr(t, &x, NULL, 2, labels, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT, "CSR step on a dense trainer");
    mlp_trainer_destroy(t);
    c.sparse_input = 1;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    CHECK(mlp_trainer_step(t, dense, IN, 2, NULL, 2, labels, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT, "dense step on a sparse trainer");
    CHECK(mlp_trainer_step_csr(t, &x, bad_rows, 2, labels, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT, "row index out of range");
    CHECK(mlp_trainer_step_csr(t, &x, NULL, 3, labels, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT, "more rows than the block");
    CHECK(mlp_trainer_step_csr(t, &x, NULL, 2, NULL, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT, "no labels");
    CHECK_OK(mlp_trainer_step_csr(t, &x, NULL, 2, labels, NULL, NULL, 1, &loss));
    c.sparse_input = 2;
    mlp_trainer *u = NULL;
    CHECK(mlp_trainer_create(net, &c, &u) == MLP_ERR_INVALID_ARGUMENT && !u, "sparse_input 2");
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

/* Scoring sparse rows = scoring their densified copies (to rounding: the dense GEMM also adds the zeros), and one
 * sparse row alone = in a batch, bit for bit. */
static void test_predict(void)
{
    data d;
    make_data(&d, 0, 5);
    for (int act = MLP_ACT_IDENTITY; act <= MLP_ACT_LAST; ++act) {
        mlp_network *net = make_net(act);
        int64_t wsn;
        CHECK_OK(mlp_network_workspace_size(net, N, &wsn));
        float *ws = malloc(sizeof(float) * (size_t)wsn), sparse[N * OUT], dense[N * OUT], one[OUT];
        CHECK_OK(mlp_network_predict_csr(net, &d.csr, MLP_OUTPUT_PROBABILITY, sparse, OUT, ws, wsn, 0));
        CHECK_OK(mlp_network_predict(net, d.dense, IN, N, MLP_OUTPUT_PROBABILITY, dense, OUT, ws, wsn, 0));
        for (int i = 0; i < N * OUT; ++i) CHECK(fabsf(sparse[i] - dense[i]) < 2e-6f, "act %d output %d: %g vs %g", act, i, sparse[i], dense[i]);
        for (int r = 0; r < N; r += 7) {
            const mlp_csr row = {1, IN, d.offsets + r, d.columns, d.values};
            CHECK_OK(mlp_network_predict_csr(net, &row, MLP_OUTPUT_PROBABILITY, one, OUT, ws, wsn, 1));
            CHECK(memcmp(one, sparse + r * OUT, sizeof one) == 0, "act %d row %d alone differs", act, r);
        }
        free(ws);
        mlp_network_destroy(net);
    }
}

/* Trains two copies of one network for `steps` minibatches of 8 rows: one on dense rows, one on the same rows as
 * CSR; returns the largest difference between their first-layer weights. */
static float train_both(int optimizer, float lr, float wd, int input_scale, const data *d, int steps, int threads,
                        float *sparse_w1_out, int same_losses)
{
    mlp_network *a = make_net(MLP_ACT_TANH), *b = make_net(MLP_ACT_TANH);
    mlp_train_config c = test_train_config(optimizer, lr, 8, threads);
    c.weight_decay = wd;
    c.input_scale = input_scale, c.input_scale_rate = 3.0f;
    mlp_trainer *ta, *tb;
    CHECK_OK(mlp_trainer_create(a, &c, &ta));
    c.sparse_input = 1;
    CHECK_OK(mlp_trainer_create(b, &c, &tb));
    int32_t idx[8];
    double la, lb;
    for (int s = 0; s < steps; ++s) {
        for (int i = 0; i < 8; ++i) idx[i] = (s * 8 + i * 5) % N;
        if (s == steps / 2) { /* a schedule: the catch-up must multiply the factors of every rate */
            CHECK_OK(mlp_trainer_set_learning_rate(ta, lr * 0.5f));
            CHECK_OK(mlp_trainer_set_learning_rate(tb, lr * 0.5f));
        }
        CHECK_OK(mlp_trainer_step(ta, d->dense, IN, N, idx, 8, d->labels, NULL, NULL, 1, &la));
        CHECK_OK(mlp_trainer_step_csr(tb, &d->csr, idx, 8, d->labels, NULL, NULL, 1, &lb));
        if (same_losses) CHECK(fabs(la - lb) < 1e-4, "step %d: loss %g dense vs %g sparse", s, la, lb);
    }
    CHECK_OK(mlp_trainer_sync(tb));
    float wa[IN * H], wb[IN * H];
    get_w1(a, wa);
    get_w1(b, wb);
    float worst = 0.0f;
    for (int i = 0; i < IN * H; ++i) worst = fmaxf(worst, fabsf(wa[i] - wb[i]));
    if (sparse_w1_out) memcpy(sparse_w1_out, wb, sizeof wb);
    mlp_trainer_destroy(ta), mlp_trainer_destroy(tb);
    mlp_network_destroy(a), mlp_network_destroy(b);
    return worst;
}

static void test_training_against_dense(void)
{
    data sparse_rows, full_rows;
    make_data(&sparse_rows, 0, 9);
    make_data(&full_rows, 1, 9);
    /* plain SGD: an untouched row's gradient is 0, so lazy and dense agree, weight decay included (the catch-up) */
    float w = train_both(MLP_OPT_SGD, 0.1f, 0.5f, 0, &sparse_rows, 30, 1, NULL, 1);
    CHECK(w < 2e-5f, "SGD + weight decay, lazy vs dense: %g", w);
    /* Adam with every column in every batch: every row is touched every step, so lazy = dense */
    w = train_both(MLP_OPT_ADAM, 0.01f, 0.2f, 0, &full_rows, 30, 1, NULL, 1);
    CHECK(w < 2e-5f, "Adam, all rows touched, lazy vs dense: %g", w);
    w = train_both(MLP_OPT_ADAM, 0.01f, 0.0f, 1, &full_rows, 30, 1, NULL, 1);
    CHECK(w < 2e-5f, "Adam + input scale, all rows touched, lazy vs dense: %g", w);
    /* Adam with untouched rows: the documented difference (their moments do not move them) */
    w = train_both(MLP_OPT_ADAM, 0.01f, 0.0f, 0, &sparse_rows, 30, 1, NULL, 0);
    CHECK(w > 1e-4f, "lazy Adam should differ from dense Adam when rows go untouched (%g)", w);
}

/* A column that never appears keeps its weights (Adam, no decay) or only decays (AdamW, exactly) */
static void test_untouched_rows(void)
{
    data d;
    make_data(&d, 0, 13);
    /* remove column 7 everywhere */
    int64_t k = 0, off = 0;
    for (int r = 0; r < N; ++r) {
        const int64_t lo = d.offsets[r], hi = d.offsets[r + 1];
        d.offsets[r] = off;
        for (int64_t q = lo; q < hi; ++q)
            if (d.columns[q] != 7) d.columns[k] = d.columns[q], d.values[k] = d.values[q], ++k;
        off = k;
    }
    d.offsets[N] = k;
    for (int pass = 0; pass < 2; ++pass) {
        const float wd = pass ? 0.3f : 0.0f, lr = 0.02f;
        mlp_network *net = make_net(MLP_ACT_RELU);
        float before[IN * H], after[IN * H];
        get_w1(net, before);
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, lr, 8, 2);
        c.weight_decay = wd;
        c.sparse_input = 1;
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        double loss;
        for (int s = 0; s < 12; ++s) CHECK_OK(mlp_trainer_step_csr(&*t, &d.csr, NULL, 8, d.labels, NULL, NULL, 1, &loss));
        CHECK_OK(mlp_trainer_sync(t));
        get_w1(net, after);
        const double factor = pow(1.0 - (double)lr * wd, 12);
        for (int j = 0; j < H; ++j)
            CHECK(fabs(after[7 * H + j] - before[7 * H + j] * factor) < 1e-6 * (1 + fabs(before[7 * H + j])),
                  "wd %g: untouched row 7 col %d: %g, expected %g", wd, j, after[7 * H + j], before[7 * H + j] * factor);
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
}

/* The row-sparse gradient against central differences of the loss (rows the batch touches), zero elsewhere. */
static void test_gradient(void)
{
    data d;
    make_data(&d, 0, 17);
    mlp_network *net = make_net(MLP_ACT_TANH);
    mlp_train_config c = test_train_config(MLP_OPT_SGD, 0.1f, 8, 1);
    c.sparse_input = 1;
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    const int32_t idx[5] = {3, 11, 4, 30, 22};
    double loss;
    CHECK_OK(mlp_trainer_step_csr(t, &d.csr, idx, 5, d.labels, NULL, NULL, 0, &loss));
    float gw[IN * H], gb[H], w[IN * H], b[H];
    CHECK_OK(mlp_trainer_get_gradient(t, 0, gw, IN * H, gb, H));
    CHECK_OK(mlp_network_get_layer(net, 0, w, IN * H, b, H));
    int touched[IN] = {0};
    for (int i = 0; i < 5; ++i)
        for (int64_t k = d.offsets[idx[i]]; k < d.offsets[idx[i] + 1]; ++k) touched[d.columns[k]] = 1;
    for (int i = 0; i < IN * H; ++i) {
        if (!touched[i / H]) {
            CHECK(gw[i] == 0.0f, "untouched row %d has gradient %g", i / H, gw[i]);
            continue;
        }
        const float saved = w[i], e = 1e-2f;
        double up, down;
        w[i] = saved + e;
        CHECK_OK(mlp_network_set_layer(net, 0, w, IN * H, b, H));
        CHECK_OK(mlp_trainer_step_csr(t, &d.csr, idx, 5, d.labels, NULL, NULL, 0, &up));
        w[i] = saved - e;
        CHECK_OK(mlp_network_set_layer(net, 0, w, IN * H, b, H));
        CHECK_OK(mlp_trainer_step_csr(t, &d.csr, idx, 5, d.labels, NULL, NULL, 0, &down));
        w[i] = saved;
        CHECK_OK(mlp_network_set_layer(net, 0, w, IN * H, b, H));
        const double fd = (up - down) / (2.0 * e);
        CHECK(fabs(gw[i] - fd) <= 1e-3 + 1e-2 * fabs(fd), "weight %d: analytic %g, finite difference %g", i, gw[i], fd);
    }
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

static void test_threads_and_evaluation(void)
{
    data d;
    make_data(&d, 0, 21);
    float one[IN * H], w[IN * H];
    for (int threads = 1; threads <= 3; ++threads) {
        train_both(MLP_OPT_ADAM, 0.01f, 0.1f, 1, &d, 20, threads, threads == 1 ? one : w, 0);
        if (threads > 1) CHECK(memcmp(one, w, sizeof w) == 0, "%d threads train differently from 1", threads);
    }
    /* evaluation: the same sums as the dense evaluation of the densified rows */
    mlp_network *net = make_net(MLP_ACT_SELU);
    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.01f, 16, 1);
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double l1, m1, w1, l2, m2, w2;
    CHECK_OK(mlp_trainer_evaluate(t, d.dense, IN, N, NULL, N, d.labels, NULL, NULL, &l1, &m1, &w1));
    CHECK_OK(mlp_trainer_evaluate_csr(t, &d.csr, NULL, N, d.labels, NULL, NULL, &l2, &m2, &w2));
    CHECK(fabs(l1 - l2) < 1e-4 && m1 == m2 && w1 == w2, "evaluation: dense %g/%g/%g vs sparse %g/%g/%g", l1, m1, w1, l2, m2, w2);
    const int32_t some[5] = {9, 2, 33, 2, 17};
    CHECK_OK(mlp_trainer_evaluate(t, d.dense, IN, N, some, 5, d.labels, NULL, NULL, &l1, &m1, &w1));
    CHECK_OK(mlp_trainer_evaluate_csr(t, &d.csr, some, 5, d.labels, NULL, NULL, &l2, &m2, &w2));
    CHECK(fabs(l1 - l2) < 1e-4 && m1 == m2, "evaluation by index: %g vs %g", l1, l2);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

int main(void)
{
    printf("isa: %s\n", mlp_isa());
    test_checks();
    test_predict();
    test_training_against_dense();
    test_untouched_rows();
    test_gradient();
    test_threads_and_evaluation();
    return test_report("test_sparse");
}
