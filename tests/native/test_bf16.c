/* The bfloat16 GEMM against a reference that rounds the same way: inputs rounded to bfloat16 (to nearest even),
 * products summed in double; the kernel's float32 accumulation must stay within its rounding bound, be far from a
 * truncating conversion and from plain float32, and give the same bits for 1 and 2 threads. Odd sizes, all four
 * transpose cases, alpha and beta. Without AVX512_BF16 the call must fail with MLP_ERR_UNSUPPORTED (the test then
 * reports itself skipped: exit code 77). */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

/* x rounded to bfloat16, to nearest even (finite x) or by truncation. */
static float to_bf16(float x, int nearest_even)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (nearest_even) u += 0x7FFFu + ((u >> 16) & 1u);
    u &= 0xFFFF0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

static void run(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta, uint64_t *seed)
{
    float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
    float *c = malloc(sizeof(float) * (size_t)(m * n)), *c0 = malloc(sizeof(float) * (size_t)(m * n));
    float *c2 = malloc(sizeof(float) * (size_t)(m * n)), *f32 = malloc(sizeof(float) * (size_t)(m * n));
    for (int64_t i = 0; i < m * k; ++i) a[i] = test_uniform(seed);
    for (int64_t i = 0; i < k * n; ++i) b[i] = test_uniform(seed);
    for (int64_t i = 0; i < m * n; ++i) c0[i] = test_uniform(seed);
    const int64_t lda = ta ? m : k, ldb = tb ? k : n;
    memcpy(c, c0, sizeof(float) * (size_t)(m * n));
    memcpy(c2, c0, sizeof(float) * (size_t)(m * n));
    memcpy(f32, c0, sizeof(float) * (size_t)(m * n));
    CHECK_OK(mlp_set_num_threads(1));
    CHECK_OK(mlp_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n));
    CHECK_OK(mlp_set_num_threads(2));
    CHECK_OK(mlp_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, n));
    CHECK_OK(mlp_set_num_threads(0));
    CHECK_OK(mlp_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, f32, n));
    CHECK(memcmp(c, c2, sizeof(float) * (size_t)(m * n)) == 0, "%lldx%lldx%lld: 1 and 2 threads differ", (long long)m,
          (long long)n, (long long)k);
    double worst = 0.0, worst_truncated = 0.0, worst_f32 = 0.0;
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double sum = 0.0, truncated = 0.0, magnitude = 0.0;
            for (int64_t p = 0; p < k; ++p) {
                const float x = ta ? a[p * lda + i] : a[i * lda + p], y = tb ? b[j * ldb + p] : b[p * ldb + j];
                sum += (double)to_bf16(x, 1) * to_bf16(y, 1);
                truncated += (double)to_bf16(x, 0) * to_bf16(y, 0);
                magnitude += fabs((double)x * y);
            }
            const double ref = alpha * sum + beta * c0[i * n + j], tref = alpha * truncated + beta * c0[i * n + j];
            /* float32 accumulation of exact products: k roundings of at most half an ulp of the running sum */
            const double bound = (k + 2) * 0x1.0p-24 * (fabs(alpha) * magnitude + fabs(beta * c0[i * n + j])) + 1e-30;
            const double e = fabs(c[i * n + j] - ref) / bound;
            if (e > worst) worst = e;
            const double et = fabs(c[i * n + j] - tref) / bound, ef = fabs(c[i * n + j] - f32[i * n + j]) / bound;
            if (et > worst_truncated) worst_truncated = et;
            if (ef > worst_f32) worst_f32 = ef;
        }
    CHECK(worst <= 1.0, "%d%d %lldx%lldx%lld: %.3g of the rounding bound away from the bf16 reference", ta, tb,
          (long long)m, (long long)n, (long long)k, worst);
    if (k >= 8) { /* enough terms for the conversions to show */
        CHECK(worst_truncated > 4.0, "%lldx%lldx%lld: as close to truncation (%.3g) as to rounding", (long long)m,
              (long long)n, (long long)k, worst_truncated);
        CHECK(worst_f32 > 4.0, "%lldx%lldx%lld: as close to float32 (%.3g): was bf16 used?", (long long)m, (long long)n,
              (long long)k, worst_f32);
    }
    free(a), free(b), free(c), free(c0), free(c2), free(f32);
}

/* A ReLU softmax network of these sizes, initialised with init_seed, and a trainer of it. */
static mlp_trainer *create_trainer(int32_t layers, const int32_t *sizes, uint64_t init_seed, const mlp_train_config *c,
                                   mlp_network **net)
{
    CHECK_OK(mlp_network_create(layers, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, net));
    CHECK_OK(mlp_network_init(*net, init_seed));
    mlp_trainer *t = NULL;
    CHECK_OK(mlp_trainer_create(*net, c, &t));
    return t;
}

/* Training in bfloat16: the same steps as float32 within bf16's rounding, the same bits for 1 and 2 threads. */
static double train(int precision, int threads, float *out)
{
    enum { ROWS = 256, IN = 96, OUT = 10 };
    const int32_t sizes[] = {IN, 64, 48, OUT};
    uint64_t seed = 3;
    float *x = malloc(sizeof(float) * ROWS * IN);
    int32_t labels[ROWS];
    for (int i = 0; i < ROWS * IN; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) labels[i] = (int32_t)((x[i * IN] > 0) + 2 * (x[i * IN + 1] > 0) + 4 * (x[i * IN + 2] > 0)) % OUT;
    mlp_network *net;
    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 3e-3f, 128, threads);
    c.precision = precision;
    mlp_trainer *t = create_trainer(3, sizes, 5, &c, &net);
    double first = 0, last = 0, loss;
    for (int step = 0; step < 40; ++step) {
        CHECK_OK(mlp_trainer_step(t, x + (step % 2) * 128 * IN, IN, 128, NULL, 128, labels + (step % 2) * 128, NULL, NULL, 1, &loss));
        if (step < 2) first += loss;
        if (step >= 38) last += loss;
    }
    CHECK(last < 0.7 * first, "precision %d: the loss fell from %g to only %g", precision, first / 2, last / 2);
    CHECK_OK(mlp_network_get_layer(net, 0, out, IN * 64, out + IN * 64, 64));
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
    free(x);
    return last / 2;
}

static void test_training(void)
{
    enum { N = 96 * 64 + 64 };
    static float f32[N], b1[N], b2[N];
    const double loss32 = train(MLP_PRECISION_FLOAT32, 1, f32);
    const double loss16 = train(MLP_PRECISION_BFLOAT16, 1, b1);
    train(MLP_PRECISION_BFLOAT16, 2, b2);
    CHECK(memcmp(b1, b2, sizeof b1) == 0, "bfloat16 training: 1 and 2 threads differ");
    CHECK(fabs(loss16 - loss32) < 0.05 * loss32, "final loss %g in bfloat16, %g in float32", loss16, loss32);
    double diff = 0, norm = 0;
    for (int i = 0; i < N; ++i) {
        diff += ((double)b1[i] - f32[i]) * ((double)b1[i] - f32[i]);
        norm += (double)f32[i] * f32[i];
    }
    /* Adam moves every weight by about the learning rate per step whatever the gradient's size, so rounding shows
     * as a small drift of the whole layer, not as a few wrong weights */
    CHECK(diff > 0 && sqrt(diff / norm) < 0.05, "bfloat16 against float32 after 40 steps: relative RMS difference %g",
          sqrt(diff / norm));
}

/* The optimizer's bf16 copy of the weights and the forward's tile-by-tile conversion of rows by index: training
 * with the copy equals training that repacks every weight each step (set_layer makes the copy stale), rows by
 * index equal the same rows gathered, and a copy made stale by set_layer with other weights is not used. */
enum { WC_ROWS = 300, WC_IN = 97, WC_BATCH = 100, WC_LAYERS = 3 };
static const int32_t wc_sizes[] = {WC_IN, 80, 40, 10};

static mlp_trainer *wc_trainer(mlp_network **net, int input_scale, int threads)
{
    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 2e-3f, WC_BATCH, threads);
    c.precision = MLP_PRECISION_BFLOAT16;
    c.input_scale = input_scale;
    c.input_scale_rate = 1e-2f;
    c.dropout_rate = 0.1f;
    return create_trainer(WC_LAYERS, wc_sizes, 9, &c, net);
}

/* mode 0: rows by index; 1: the same, every layer set again before each step; 2: the rows gathered first */
static void wc_train(int mode, int input_scale, int threads, const float *x, const int32_t *labels, float *params)
{
    static float gathered[WC_BATCH * WC_IN], layer[WC_IN * 80 + 80];
    static int32_t order[WC_ROWS], gathered_labels[WC_BATCH];
    for (int i = 0; i < WC_ROWS; ++i) order[i] = (int32_t)((i * 7 + 3) % WC_ROWS);
    mlp_network *net;
    mlp_trainer *t = wc_trainer(&net, input_scale, threads);
    for (int step = 0; step < 12; ++step) {
        const int32_t *idx = order + (step % 3) * WC_BATCH;
        double loss;
        if (mode == 1)
            for (int l = 0; l < WC_LAYERS; ++l) {
                const int64_t w = (int64_t)wc_sizes[l] * wc_sizes[l + 1];
                CHECK_OK(mlp_network_get_layer(net, l, layer, w, layer + w, wc_sizes[l + 1]));
                CHECK_OK(mlp_network_set_layer(net, l, layer, w, layer + w, wc_sizes[l + 1]));
            }
        if (mode == 2) {
            for (int r = 0; r < WC_BATCH; ++r) {
                memcpy(gathered + r * WC_IN, x + (int64_t)idx[r] * WC_IN, sizeof(float) * WC_IN);
                gathered_labels[r] = labels[idx[r]];
            }
            CHECK_OK(mlp_trainer_step(t, gathered, WC_IN, WC_BATCH, NULL, WC_BATCH, gathered_labels, NULL, NULL, 1, &loss));
        } else {
            CHECK_OK(mlp_trainer_step(t, x, WC_IN, WC_ROWS, idx, WC_BATCH, labels, NULL, NULL, 1, &loss));
        }
    }
    test_get_params(net, WC_LAYERS, wc_sizes, params);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

static void test_weight_copy(void)
{
    enum { P = WC_IN * 80 + 80 + 80 * 40 + 40 + 40 * 10 + 10 };
    static float x[WC_ROWS * WC_IN], base[P], other[P];
    static int32_t labels[WC_ROWS];
    uint64_t seed = 17;
    for (int i = 0; i < WC_ROWS * WC_IN; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < WC_ROWS; ++i) labels[i] = (int32_t)((x[i * WC_IN] > 0) + 2 * (x[i * WC_IN + 5] > 0)) % 10;
    for (int scale = 0; scale < 2; ++scale)
        for (int threads = 1; threads <= 2; ++threads) {
            wc_train(0, scale, threads, x, labels, base);
            wc_train(1, scale, threads, x, labels, other);
            CHECK(memcmp(base, other, sizeof base) == 0,
                  "input scale %d, %d threads: the kept bf16 copy trains differently from repacking each step", scale, threads);
            wc_train(2, scale, threads, x, labels, other);
            CHECK(memcmp(base, other, sizeof base) == 0,
                  "input scale %d, %d threads: rows by index train differently from the same rows gathered", scale, threads);
        }

    /* a trained trainer whose network gets other weights evaluates them, not its copy */
    mlp_network *net, *fresh;
    mlp_trainer *t = wc_trainer(&net, 0, 2), *ft = wc_trainer(&fresh, 0, 2);
    double loss;
    for (int step = 0; step < 3; ++step)
        CHECK_OK(mlp_trainer_step(t, x, WC_IN, WC_ROWS, NULL, WC_BATCH, labels, NULL, NULL, 1, &loss));
    test_get_params(fresh, WC_LAYERS, wc_sizes, other);
    test_set_params(net, WC_LAYERS, wc_sizes, other);
    double l1, m1, w1, l2, m2, w2;
    CHECK_OK(mlp_trainer_evaluate(t, x, WC_IN, WC_ROWS, NULL, WC_ROWS, labels, NULL, NULL, &l1, &m1, &w1));
    CHECK_OK(mlp_trainer_evaluate(ft, x, WC_IN, WC_ROWS, NULL, WC_ROWS, labels, NULL, NULL, &l2, &m2, &w2));
    CHECK(l1 == l2, "after set_layer the trainer evaluated loss %.17g, a fresh one %.17g (a stale bf16 copy?)", l1, l2);
    mlp_trainer_destroy(t), mlp_trainer_destroy(ft);
    mlp_network_destroy(net), mlp_network_destroy(fresh);
}

/* A linear bf16 trainer's first-layer gradient, whose Xᵀ the forward packs: exactly mlp_sgemm_bf16(Xᵀ, dZ) with dZ
 * the loss gradient of the network's bf16 scores (the scoring GEMV has the training tile's arithmetic), for rows by
 * index, an odd batch and an odd input width. */
static void test_first_layer_gradient(void)
{
    enum { ROWS = 90, IN = 97, OUT = 20, BATCH = 37 };
    static float x[ROWS * IN], gathered[BATCH * IN], z[BATCH * OUT], dz[BATCH * OUT], ref[IN * OUT], got[IN * OUT],
        bias_grad[OUT];
    int32_t labels[ROWS], idx[BATCH], batch_labels[BATCH];
    uint64_t seed = 23;
    for (int i = 0; i < ROWS * IN; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) labels[i] = i % OUT;
    for (int i = 0; i < BATCH; ++i) idx[i] = (i * 41 + 7) % ROWS, batch_labels[i] = labels[idx[i]];
    for (int i = 0; i < BATCH; ++i) memcpy(gathered + i * IN, x + idx[i] * IN, sizeof(float) * IN);
    const int32_t sizes[] = {IN, OUT};
    for (int threads = 1; threads <= 2; ++threads) {
        mlp_network *net;
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, 1e-3f, 64, threads);
        c.precision = MLP_PRECISION_BFLOAT16;
        mlp_trainer *t = create_trainer(1, sizes, 3, &c, &net);
        double loss;
        CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, idx, BATCH, labels, NULL, NULL, 0, &loss));
        CHECK_OK(mlp_trainer_get_gradient(t, 0, got, IN * OUT, bias_grad, OUT));
        CHECK_OK(mlp_network_set_scoring_precision(net, MLP_PRECISION_BFLOAT16));
        int64_t ws_count;
        CHECK_OK(mlp_network_workspace_size(net, BATCH, &ws_count));
        float *ws = malloc(sizeof(float) * (size_t)ws_count);
        CHECK_OK(mlp_network_predict(net, gathered, IN, BATCH, MLP_OUTPUT_RAW, z, OUT, ws, ws_count, 1));
        double ref_loss;
        CHECK_OK(mlp_loss_forward_backward(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, BATCH, OUT, z, OUT, batch_labels, NULL, NULL, dz,
                                           OUT, &ref_loss));
        CHECK_OK(mlp_sgemm_bf16(1, 0, IN, OUT, BATCH, 1.0f, gathered, IN, dz, OUT, 0.0f, ref, OUT));
        CHECK(loss == ref_loss, "%d threads: trainer loss %.17g, from the bf16 scores %.17g", threads, loss, ref_loss);
        CHECK(memcmp(got, ref, sizeof ref) == 0, "%d threads: the first layer's bf16 gradient is not Xᵀ dZ in bf16", threads);
        free(ws);
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
}

/* Scoring through the bfloat16 copies: a row alone = in a batch = on 2 threads (bit for bit), close to float32 but
 * not float32, refreshed by set_layer, dropped by a trainer. */
static void test_scoring(void)
{
    enum { ROWS = 37, IN = 70, OUT = 10 };
    const int32_t sizes[] = {IN, 96, 40, OUT};
    mlp_network *net;
    CHECK_OK(mlp_network_create(3, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 8));
    uint64_t seed = 4;
    static float x[ROWS * IN], f32[ROWS * OUT], batch[ROWS * OUT], two[ROWS * OUT], one[OUT], ws[1 << 16];
    for (int i = 0; i < ROWS * IN; ++i) x[i] = test_uniform(&seed);
    int64_t need;
    CHECK_OK(mlp_network_workspace_size(net, ROWS, &need));
    CHECK(need <= (int64_t)(sizeof ws / sizeof ws[0]), "workspace %lld", (long long)need);
    CHECK_OK(mlp_network_predict(net, x, IN, ROWS, MLP_OUTPUT_RAW, f32, OUT, ws, need, 1));
    CHECK(mlp_network_set_scoring_precision(net, 2) == MLP_ERR_INVALID_ARGUMENT, "precision 2");
    CHECK_OK(mlp_network_set_scoring_precision(net, MLP_PRECISION_BFLOAT16));
    int32_t precision = -1;
    CHECK_OK(mlp_network_get_scoring_precision(net, &precision));
    CHECK(precision == MLP_PRECISION_BFLOAT16, "precision %d", (int)precision);
    CHECK_OK(mlp_network_workspace_size(net, ROWS, &need));
    CHECK(need <= (int64_t)(sizeof ws / sizeof ws[0]), "workspace %lld", (long long)need);
    CHECK_OK(mlp_network_predict(net, x, IN, ROWS, MLP_OUTPUT_RAW, batch, OUT, ws, need, 1));
    CHECK_OK(mlp_network_predict(net, x, IN, ROWS, MLP_OUTPUT_RAW, two, OUT, ws, need, 2));
    CHECK(memcmp(batch, two, sizeof batch) == 0, "bfloat16 scoring: 1 and 2 threads differ");
    double worst = 0, scale = 0;
    for (int r = 0; r < ROWS; ++r) {
        int64_t one_need;
        CHECK_OK(mlp_network_workspace_size(net, 1, &one_need));
        CHECK_OK(mlp_network_predict(net, x + r * IN, IN, 1, MLP_OUTPUT_RAW, one, OUT, ws, one_need, 1));
        CHECK(memcmp(one, batch + r * OUT, sizeof one) == 0, "row %d alone differs from the batch", r);
        for (int j = 0; j < OUT; ++j) {
            const double d = fabs((double)batch[r * OUT + j] - f32[r * OUT + j]);
            if (d > worst) worst = d;
            if (fabs(f32[r * OUT + j]) > scale) scale = fabs(f32[r * OUT + j]);
        }
    }
    CHECK(worst > 0 && worst < 0.03 * scale, "bfloat16 against float32 scores: largest difference %g (|z| up to %g)", worst, scale);
    /* set_layer refreshes the copy: the same weights scaled by 2 (exact in bf16) give scores scaled through ReLU */
    static float w[IN * 96], b[96];
    CHECK_OK(mlp_network_get_layer(net, 0, w, IN * 96, b, 96));
    for (int i = 0; i < IN * 96; ++i) w[i] *= 2.0f;
    for (int i = 0; i < 96; ++i) b[i] *= 2.0f;
    CHECK_OK(mlp_network_set_layer(net, 0, w, IN * 96, b, 96));
    static float scaled[ROWS * OUT], again[ROWS * OUT];
    CHECK_OK(mlp_network_predict(net, x, IN, ROWS, MLP_OUTPUT_RAW, scaled, OUT, ws, need, 1));
    CHECK(memcmp(scaled, batch, sizeof scaled) != 0, "set_layer did not reach the bfloat16 copy");
    mlp_network *fresh;
    CHECK_OK(mlp_network_create(3, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &fresh));
    for (int l = 0; l < 3; ++l) {
        static float wl[IN * 96], bl[96];
        const int64_t wc = (int64_t)sizes[l] * sizes[l + 1];
        CHECK_OK(mlp_network_get_layer(net, l, wl, wc, bl, sizes[l + 1]));
        CHECK_OK(mlp_network_set_layer(fresh, l, wl, wc, bl, sizes[l + 1]));
    }
    CHECK_OK(mlp_network_set_scoring_precision(fresh, MLP_PRECISION_BFLOAT16));
    CHECK_OK(mlp_network_predict(fresh, x, IN, ROWS, MLP_OUTPUT_RAW, again, OUT, ws, need, 1));
    CHECK(memcmp(scaled, again, sizeof scaled) == 0, "a refreshed copy differs from a fresh one");
    /* a trainer returns the network to float32 scoring */
    const mlp_train_config c = test_train_config(MLP_OPT_ADAM, 1e-3f, 8, 1);
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(fresh, &c, &t));
    CHECK_OK(mlp_network_get_scoring_precision(fresh, &precision));
    CHECK(precision == MLP_PRECISION_FLOAT32, "after a trainer: precision %d", (int)precision);
    mlp_trainer_destroy(t);
    mlp_network_destroy(fresh);
    mlp_network_destroy(net);
}

int main(void)
{
    if (!mlp_has_bfloat16()) {
        float x = 1.0f, y = 0.0f;
        CHECK(mlp_sgemm_bf16(0, 0, 1, 1, 1, 1.0f, &x, 1, &x, 1, 0.0f, &y, 1) == MLP_ERR_UNSUPPORTED,
              "without AVX512_BF16 the call must say so");
        CHECK(strstr(mlp_last_error_message(), "AVX512_BF16") != NULL, "message: %s", mlp_last_error_message());
        mlp_network *net;
        const int32_t sizes[] = {4, 3};
        CHECK_OK(mlp_network_create(1, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, 1e-3f, 8, 1);
        c.precision = MLP_PRECISION_BFLOAT16;
        mlp_trainer *t = NULL;
        CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_UNSUPPORTED && !t, "a bfloat16 trainer without AVX512_BF16");
        CHECK(mlp_network_set_scoring_precision(net, MLP_PRECISION_BFLOAT16) == MLP_ERR_UNSUPPORTED, "bfloat16 scoring");
        mlp_network_destroy(net);
        printf("skipped: this CPU (or MLNETMLP_ISA) has no AVX512_BF16\n");
        return test_failures ? 1 : 77;
    }
    uint64_t seed = 31;
    static const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {37, 129, 301}, {131, 10, 97}, {64, 7, 5},
                                        {17, 48, 33}, {9, 50, 16}, {128, 256, 784}, {250, 10, 128}};
    for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); ++s)
        for (int t = 0; t < 4; ++t)
            run(t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], t == 3 ? -0.75f : 1.0f, t >= 2 ? 0.5f : 0.0f, &seed);
    float x = 1.0f, y = 0.0f;
    CHECK(mlp_sgemm_bf16(2, 0, 1, 1, 1, 1.0f, &x, 1, &x, 1, 0.0f, &y, 1) == MLP_ERR_INVALID_ARGUMENT, "trans_a 2");
    CHECK(mlp_sgemm_bf16(0, 0, 1, 1, 1, 1.0f, NULL, 1, &x, 1, 0.0f, &y, 1) == MLP_ERR_INVALID_ARGUMENT, "NULL A");
    test_training();
    test_weight_copy();
    test_first_layer_gradient();
    test_scoring();
    return test_report("test_bf16");
}
