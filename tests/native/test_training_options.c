/* The training step's options against references computed here: label smoothing (gradient by finite differences,
 * evaluation without it), the trainable input scale (one SGD step by hand, determinism across thread counts), per-layer
 * rate factors, regularization schedules, and their argument checks. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

enum { IN = 5, H = 7, OUT = 3, ROWS = 9 };
static const int32_t sizes[3] = {IN, H, OUT};

static void make_data(float *x, int32_t *labels)
{
    uint64_t seed = 9;
    for (int i = 0; i < ROWS * IN; ++i) x[i] = 2.0f * test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) labels[i] = i % OUT;
}

static mlp_network *make_net(int act)
{
    mlp_network *net = NULL;
    CHECK_OK(mlp_network_create(2, sizes, act, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 5));
    return net;
}

/* With smoothing eps the step's loss is the cross-entropy against (1 - eps) onehot + eps / K, and its gradient
 * matches central differences of that loss; mlp_trainer_evaluate reports the plain loss. */
static void test_label_smoothing(void)
{
    float x[ROWS * IN];
    int32_t labels[ROWS];
    make_data(x, labels);
    mlp_network *net = make_net(MLP_ACT_TANH);
    mlp_train_config c = test_train_config(MLP_OPT_SGD, 0.1f, ROWS, 1);
    c.label_smoothing = 0.2f;
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double loss;
    CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 0, &loss));

    /* the reference loss from the network's own logits */
    int64_t ws_count;
    CHECK_OK(mlp_network_workspace_size(net, ROWS, &ws_count));
    float *ws = malloc(sizeof(float) * (size_t)ws_count), z[ROWS * OUT];
    CHECK_OK(mlp_network_predict(net, x, IN, ROWS, MLP_OUTPUT_RAW, z, OUT, ws, ws_count, 1));
    double smoothed = 0.0, plain = 0.0;
    for (int r = 0; r < ROWS; ++r) {
        double zmax = z[r * OUT], sum = 0.0;
        for (int j = 1; j < OUT; ++j) zmax = z[r * OUT + j] > zmax ? z[r * OUT + j] : zmax;
        for (int j = 0; j < OUT; ++j) sum += exp(z[r * OUT + j] - zmax);
        for (int j = 0; j < OUT; ++j) {
            const double q = (j == labels[r] ? 0.8 : 0.0) + 0.2 / OUT;
            smoothed -= q * (z[r * OUT + j] - zmax - log(sum));
        }
        plain -= z[r * OUT + labels[r]] - zmax - log(sum);
    }
    CHECK(fabs(loss - smoothed / ROWS) < 1e-5, "smoothed loss %g, reference %g", loss, smoothed / ROWS);
    double loss_sum, metric_sum, weight_sum;
    CHECK_OK(mlp_trainer_evaluate(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, &loss_sum, &metric_sum, &weight_sum));
    CHECK(fabs(loss_sum - plain) < 1e-4, "evaluation loss %g, plain cross-entropy %g", loss_sum, plain);

    /* output-layer gradient against central differences of the smoothed loss */
    float gw[H * OUT], gb[OUT], w[H * OUT], b[OUT];
    CHECK_OK(mlp_trainer_get_gradient(t, 1, gw, H * OUT, gb, OUT));
    CHECK_OK(mlp_network_get_layer(net, 1, w, H * OUT, b, OUT));
    for (int i = 0; i < H * OUT + OUT; ++i) {
        float *p = i < H * OUT ? &w[i] : &b[i - H * OUT];
        const float saved = *p, e = 1e-2f;
        double up, down;
        *p = saved + e;
        CHECK_OK(mlp_network_set_layer(net, 1, w, H * OUT, b, OUT));
        CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 0, &up));
        *p = saved - e;
        CHECK_OK(mlp_network_set_layer(net, 1, w, H * OUT, b, OUT));
        CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 0, &down));
        *p = saved;
        CHECK_OK(mlp_network_set_layer(net, 1, w, H * OUT, b, OUT));
        const double fd = (up - down) / (2.0 * e), an = i < H * OUT ? gw[i] : gb[i - H * OUT];
        CHECK(fabs(an - fd) <= 1e-3 + 1e-2 * fabs(fd), "param %d: analytic %g, finite difference %g", i, an, fd);
    }
    free(ws);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

/* One plain-SGD step with the input scale (s = 1 at first) and rate factors, by hand: P = the gradient of the
 * folded weights, ds_j = sum_k W[j,k] P[j,k], W' = W - lr f0 P, s' = 1 - lr r ds, the network then holds s'_j W'[j,k];
 * the second layer steps with its own factors. */
static void test_input_scale_and_rate_factors(void)
{
    float x[ROWS * IN];
    int32_t labels[ROWS];
    make_data(x, labels);
    const float lr = 0.05f, rate = 3.0f, wf[2] = {0.5f, 2.0f}, bf[2] = {0.25f, 4.0f};
    mlp_network *net = make_net(MLP_ACT_SELU);
    mlp_train_config c = test_train_config(MLP_OPT_SGD, lr, ROWS, 1);
    c.input_scale = 1;
    c.input_scale_rate = rate;
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    CHECK_OK(mlp_trainer_set_rate_factors(t, 2, wf, bf));
    float w0[IN * H], b0[H], w1[H * OUT], b1[OUT], p0[IN * H], pb0[H], p1[H * OUT], pb1[OUT];
    CHECK_OK(mlp_network_get_layer(net, 0, w0, IN * H, b0, H));
    CHECK_OK(mlp_network_get_layer(net, 1, w1, H * OUT, b1, OUT));
    double loss;
    CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 0, &loss));
    CHECK_OK(mlp_trainer_get_gradient(t, 0, p0, IN * H, pb0, H));
    CHECK_OK(mlp_trainer_get_gradient(t, 1, p1, H * OUT, pb1, OUT));
    CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 1, &loss));
    float a0[IN * H], ab0[H], a1[H * OUT], ab1[OUT];
    CHECK_OK(mlp_network_get_layer(net, 0, a0, IN * H, ab0, H));
    CHECK_OK(mlp_network_get_layer(net, 1, a1, H * OUT, ab1, OUT));
    for (int j = 0; j < IN; ++j) {
        double ds = 0.0;
        for (int k = 0; k < H; ++k) ds += (double)w0[j * H + k] * p0[j * H + k];
        const double s = 1.0 - lr * rate * ds;
        for (int k = 0; k < H; ++k) {
            const double expect = s * (w0[j * H + k] - lr * wf[0] * p0[j * H + k]);
            CHECK(fabs(a0[j * H + k] - expect) < 1e-6, "layer 0 [%d,%d]: %g, expected %g", j, k, a0[j * H + k], expect);
        }
    }
    for (int k = 0; k < H; ++k)
        CHECK(fabs(ab0[k] - (b0[k] - lr * bf[0] * pb0[k])) < 1e-6, "layer 0 bias %d", k);
    for (int i = 0; i < H * OUT; ++i)
        CHECK(fabs(a1[i] - (w1[i] - lr * wf[1] * p1[i])) < 1e-6, "layer 1 weight %d: %g vs %g", i, a1[i], w1[i] - lr * wf[1] * p1[i]);
    for (int i = 0; i < OUT; ++i)
        CHECK(fabs(ab1[i] - (b1[i] - lr * bf[1] * pb1[i])) < 1e-6, "layer 1 bias %d", i);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

/* Adam with the input scale, rate factors, smoothing and scheduled regularization: the same weights for 1, 2 and
 * 3 threads, bit for bit. */
static void test_options_deterministic_across_threads(void)
{
    enum { N = 150, D = 40, B = 64 };
    const int32_t s3[4] = {D, 64, 48, 4};
    float *x = malloc(sizeof(float) * N * D);
    int32_t y[N], idx[B];
    uint64_t seed = 21;
    for (int i = 0; i < N * D; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < N; ++i) y[i] = i % 4;
    for (int i = 0; i < B; ++i) idx[i] = (i * 31) % N;
    float *first = malloc(sizeof(float) * D * 64), *w = malloc(sizeof(float) * D * 64), b[64];
    for (int threads = 1; threads <= 3; ++threads) {
        mlp_network *net;
        CHECK_OK(mlp_network_create(3, s3, MLP_ACT_SELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        CHECK_OK(mlp_network_init(net, 8));
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.01f, B, threads);
        c.input_scale = 1, c.input_scale_rate = 6.0f, c.label_smoothing = 0.1f, c.dropout_rate = 0.1f, c.beta2 = 0.95f;
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        const float wf[3] = {0.15f, 0.06f, 0.06f}, bf[3] = {0.1f, 0.1f, 0.1f};
        CHECK_OK(mlp_trainer_set_rate_factors(t, 3, wf, bf));
        double loss;
        for (int s = 0; s < 6; ++s) {
            CHECK_OK(mlp_trainer_set_regularization(t, 0.1f * (float)(6 - s) / 6.0f, 0.02f * (float)s));
            CHECK_OK(mlp_trainer_step(t, x, D, N, idx, B, y, NULL, NULL, 1, &loss));
        }
        CHECK_OK(mlp_network_get_layer(net, 0, threads == 1 ? first : w, D * 64, b, 64));
        if (threads > 1)
            CHECK(memcmp(first, w, sizeof(float) * D * 64) == 0, "%d threads train differently from 1", threads);
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
    free(first), free(w), free(x);
}

static void test_arguments(void)
{
    mlp_network *net = make_net(MLP_ACT_RELU);
    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.01f, 4, 1);
    mlp_trainer *t = NULL;
    c.label_smoothing = 1.0f;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT && !t, "label_smoothing 1");
    c.label_smoothing = -0.1f;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "negative label_smoothing");
    c.label_smoothing = 0.0f, c.input_scale = 2;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "input_scale 2");
    c.input_scale = 1, c.input_scale_rate = 0.0f;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "input_scale_rate 0");
    c.input_scale_rate = NAN;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "input_scale_rate NaN");
    c.input_scale = 0;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    const float ok[2] = {1, 1}, zero[2] = {1, 0}, nan[2] = {NAN, 1}, huge[2] = {1e6f, 1};
    CHECK(mlp_trainer_set_rate_factors(t, 3, ok, ok) == MLP_ERR_INVALID_ARGUMENT, "wrong layer count");
    CHECK(mlp_trainer_set_rate_factors(t, 2, zero, ok) == MLP_ERR_INVALID_ARGUMENT, "zero factor");
    CHECK(mlp_trainer_set_rate_factors(t, 2, ok, nan) == MLP_ERR_INVALID_ARGUMENT, "NaN factor");
    CHECK(mlp_trainer_set_rate_factors(t, 2, NULL, ok) == MLP_ERR_INVALID_ARGUMENT, "NULL factors");
    CHECK(mlp_trainer_set_rate_factors(NULL, 2, ok, ok) == MLP_ERR_INVALID_ARGUMENT, "NULL trainer");
    CHECK_OK(mlp_trainer_set_regularization(t, 0.5f, 1.0f));
    CHECK(mlp_trainer_set_rate_factors(t, 2, huge, ok) == MLP_ERR_INVALID_ARGUMENT, "rate x decay >= 1");
    CHECK(mlp_trainer_set_regularization(t, 1.0f, 0.0f) == MLP_ERR_INVALID_ARGUMENT, "dropout 1");
    CHECK(mlp_trainer_set_regularization(t, 0.0f, -1.0f) == MLP_ERR_INVALID_ARGUMENT, "negative decay");
    CHECK(mlp_trainer_set_regularization(t, 0.0f, 200.0f) == MLP_ERR_INVALID_ARGUMENT, "lr x decay >= 1");
    CHECK(mlp_trainer_set_regularization(NULL, 0.0f, 0.0f) == MLP_ERR_INVALID_ARGUMENT, "NULL trainer");
    CHECK(mlp_trainer_set_learning_rate(t, 2.0f) == MLP_ERR_INVALID_ARGUMENT, "lr x decay >= 1 via the rate");
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

int main(void)
{
    printf("isa: %s\n", mlp_isa());
    test_label_smoothing();
    test_input_scale_and_rate_factors();
    test_options_deterministic_across_threads();
    test_arguments();
    return test_report("test_training_options");
}
