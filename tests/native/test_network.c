/* Networks and training: whole-network gradient check, learning XOR, scoring consistency,
 * determinism across thread counts, argument checks and handle hygiene. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

static int64_t layer_weights(const int32_t *sizes, int l) { return (int64_t)sizes[l] * sizes[l + 1]; }

/* d(loss)/d(param) by central differences against the analytic gradient, for every activation. */
static void gradient_check(float dropout);

static void test_gradient_check(void)
{
    gradient_check(0.0f);
    gradient_check(0.3f); /* masks depend on the step, which update == 0 does not advance */
}

static void gradient_check(float dropout)
{
    const int32_t sizes[4] = {5, 7, 6, 3};
    enum { ROWS = 9 };
    uint64_t seed = 5;
    float x[ROWS * 5], weights[ROWS];
    int32_t labels[ROWS];
    for (int i = 0; i < ROWS * 5; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) labels[i] = i % 3, weights[i] = 0.5f + (float)(i % 4);
    for (int act = MLP_ACT_IDENTITY; act <= MLP_ACT_LAST; ++act) {
        mlp_network *net;
        CHECK_OK(mlp_network_create(3, sizes, act, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        CHECK_OK(mlp_network_init(net, 42));
        mlp_train_config c = test_train_config(MLP_OPT_SGD, 0.1f, ROWS, 1);
        c.l2 = 0.01f;
        c.dropout_rate = dropout;
        c.seed = 77;
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        double loss;
        CHECK_OK(mlp_trainer_step(t, x, 5, ROWS, NULL, ROWS, labels, NULL, weights, 0, &loss));
        /* analytic gradients first: every later step overwrites the trainer's gradient buffers */
        float grad_w[3][64], grad_b[3][8];
        for (int l = 0; l < 3; ++l)
            CHECK_OK(mlp_trainer_get_gradient(t, l, grad_w[l], layer_weights(sizes, l), grad_b[l], sizes[l + 1]));
        int worst_ok = 1;
        for (int l = 0; l < 3; ++l) {
            const int64_t wc = layer_weights(sizes, l), bc = sizes[l + 1];
            float w[64], b[8];
            const float *gw = grad_w[l], *gb = grad_b[l];
            CHECK_OK(mlp_network_get_layer(net, l, w, wc, b, bc));
            for (int64_t i = 0; i < wc + bc; ++i) {
                float *p = i < wc ? &w[i] : &b[i - wc];
                /* SELU's derivative jumps at 0 (1.05 to 1.76): a smaller step keeps pre-activations off the kink */
                const float saved = *p, e = act == MLP_ACT_SELU ? 2e-3f : 1e-2f;
                double up, down;
                *p = saved + e;
                CHECK_OK(mlp_network_set_layer(net, l, w, wc, b, bc));
                CHECK_OK(mlp_trainer_step(t, x, 5, ROWS, NULL, ROWS, labels, NULL, weights, 0, &up));
                *p = saved - e;
                CHECK_OK(mlp_network_set_layer(net, l, w, wc, b, bc));
                CHECK_OK(mlp_trainer_step(t, x, 5, ROWS, NULL, ROWS, labels, NULL, weights, 0, &down));
                *p = saved;
                CHECK_OK(mlp_network_set_layer(net, l, w, wc, b, bc));
                /* the L2 term (0.5 * l2 * w^2 on weights) is not in the reported loss: add its derivative */
                const double fd = (up - down) / (2.0 * e) + (i < wc ? c.l2 * saved : 0.0);
                const double an = i < wc ? gw[i] : gb[i - wc];
                const double kink = act == MLP_ACT_RELU || act == MLP_ACT_LEAKY_RELU || act == MLP_ACT_SELU ? 5e-3 : 0.0;
                if (!(fabs(an - fd) <= 2e-3 + kink + 2e-2 * fabs(fd)) && worst_ok) {
                    CHECK(0, "dropout %g act %d layer %d param %lld: analytic %g, finite difference %g", dropout, act, l,
                          (long long)i, an, fd);
                    worst_ok = 0;
                }
            }
        }
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
}

/* XOR is not linearly separable: a 2-8-2 tanh network must learn it. */
static void test_learns_xor(void)
{
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int32_t y[4] = {0, 1, 1, 0};
    const int32_t sizes[3] = {2, 8, 2};
    mlp_network *net;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 1));
    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.05f, 4, 1);
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double first = 0, loss = 0;
    for (int i = 0; i < 500; ++i) {
        CHECK_OK(mlp_trainer_step(t, x, 2, 4, NULL, 4, y, NULL, NULL, 1, &loss));
        if (i == 0) first = loss;
    }
    CHECK(loss < 0.05 && loss < first, "XOR loss went from %g to %g", first, loss);
    double lsum, correct, wsum;
    CHECK_OK(mlp_trainer_evaluate(t, x, 2, 4, NULL, 4, y, NULL, NULL, &lsum, &correct, &wsum));
    CHECK(correct == 4.0 && wsum == 4.0, "XOR accuracy %g/%g", correct, wsum);

    int64_t ws_count;
    CHECK_OK(mlp_network_workspace_size(net, 4, &ws_count));
    float *ws = malloc(sizeof(float) * (size_t)ws_count), prob[8];
    CHECK_OK(mlp_network_predict(net, x, 2, 4, MLP_OUTPUT_PROBABILITY, prob, 2, ws, ws_count, 0));
    for (int r = 0; r < 4; ++r) {
        CHECK(fabs(prob[2 * r] + prob[2 * r + 1] - 1.0f) < 1e-6, "probabilities of row %d sum to %g", r,
              prob[2 * r] + prob[2 * r + 1]);
        CHECK(prob[2 * r + y[r]] > 0.9f, "row %d: p(correct) = %g", r, prob[2 * r + y[r]]);
    }
    CHECK(mlp_network_predict(net, x, 2, 4, MLP_OUTPUT_RAW, prob, 2, ws, ws_count - 1, 0) == MLP_ERR_INVALID_ARGUMENT,
          "short workspace accepted");
    free(ws);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

/* One row scores bit-identically alone or inside a batch (the few-row and blocked GEMM paths agree),
 * and training is bit-identical for 1, 2 and 3 threads, and with the batch's rows given by index or copied out
 * beforehand (the trainer's gather). */
static void test_consistency(void)
{
    const int32_t sizes[4] = {300, 64, 40, 10};
    enum { ROWS = 200 };
    uint64_t seed = 17;
    float *x = malloc(sizeof(float) * ROWS * 300);
    float *x_copied = malloc(sizeof(float) * 64 * 300);
    int32_t y[ROWS], idx[64], y_copied[64];
    for (int i = 0; i < ROWS * 300; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) y[i] = i % 10;
    for (int i = 0; i < 64; ++i) {
        idx[i] = (i * 37) % ROWS;
        memcpy(x_copied + i * 300, x + idx[i] * 300, sizeof(float) * 300);
        y_copied[i] = y[idx[i]];
    }

    float *params[4] = {NULL, NULL, NULL, NULL};
    for (int run = 0; run < 4; ++run) {
        const int threads = run < 3 ? run + 1 : 2, copied = run == 3;
        mlp_network *net;
        CHECK_OK(mlp_network_create(3, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        CHECK_OK(mlp_network_init(net, 3));
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, 1e-3f, 64, threads);
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        double loss;
        for (int s = 0; s < 5; ++s)
            CHECK_OK(copied ? mlp_trainer_step(t, x_copied, 300, 64, NULL, 64, y_copied, NULL, NULL, 1, &loss)
                            : mlp_trainer_step(t, x, 300, ROWS, idx, 64, y, NULL, NULL, 1, &loss));
        params[run] = malloc(sizeof(float) * 300 * 64);
        float b[64];
        CHECK_OK(mlp_network_get_layer(net, 0, params[run], 300 * 64, b, 64));

        if (run == 0) {
            int64_t ws_count;
            CHECK_OK(mlp_network_workspace_size(net, ROWS, &ws_count));
            float *ws = malloc(sizeof(float) * (size_t)ws_count), *all = malloc(sizeof(float) * ROWS * 10), one[10];
            CHECK_OK(mlp_network_predict(net, x, 300, ROWS, MLP_OUTPUT_PROBABILITY, all, 10, ws, ws_count, 0));
            for (int r = 0; r < ROWS; r += 13) {
                CHECK_OK(mlp_network_predict(net, x + r * 300, 300, 1, MLP_OUTPUT_PROBABILITY, one, 10, ws, ws_count, 0));
                CHECK(memcmp(one, all + r * 10, sizeof one) == 0, "row %d scores differently alone", r);
            }
            free(ws), free(all);
        }
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
    CHECK(memcmp(params[0], params[1], sizeof(float) * 300 * 64) == 0, "2 threads train differently from 1");
    CHECK(memcmp(params[0], params[2], sizeof(float) * 300 * 64) == 0, "3 threads train differently from 1");
    CHECK(memcmp(params[0], params[3], sizeof(float) * 300 * 64) == 0, "rows by index train differently from copied rows");
    for (int i = 0; i < 4; ++i) free(params[i]);
    free(x), free(x_copied);
}

/* AdamW: the decay shrinks weights by lr * wd * w on top of the Adam step; the gradient excludes it. */
static void test_adamw(void)
{
    const int32_t sizes[2] = {3, 2};
    const float x[6] = {1.0f, -2.0f, 0.5f, 0.3f, 0.1f, -1.0f};
    const int32_t y[2] = {0, 1};
    for (int decoupled = 0; decoupled <= 1; ++decoupled) {
        mlp_network *net;
        CHECK_OK(mlp_network_create(1, sizes, MLP_ACT_IDENTITY, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        CHECK_OK(mlp_network_init(net, 9));
        float w0[6], b0[2], w1[6], b1[2], gw[6], gb[2];
        CHECK_OK(mlp_network_get_layer(net, 0, w0, 6, b0, 2));
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.01f, 2, 1);
        c.l2 = decoupled ? 0.0f : 0.5f;
        c.weight_decay = decoupled ? 0.5f : 0.0f;
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        double loss;
        CHECK_OK(mlp_trainer_step(t, x, 3, 2, NULL, 2, y, NULL, NULL, 1, &loss));
        CHECK_OK(mlp_network_get_layer(net, 0, w1, 6, b1, 2));
        CHECK_OK(mlp_trainer_get_gradient(t, 0, gw, 6, gb, 2));
        for (int i = 0; i < 6; ++i) {
            /* first Adam step: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps) */
            const double g = gw[i]; /* get_gradient includes the coupled term only */
            double expected = w0[i] - 0.01 * g / (fabs(g) + 1e-8);
            if (decoupled) expected -= 0.01 * 0.5 * w0[i];
            CHECK(fabs(w1[i] - expected) < 1e-5, "decoupled=%d weight %d: %g, expected %g", decoupled, i, w1[i], expected);
        }
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
}

/* A decaying optimizer moment (Adam's m and v, SGD's velocity) that falls below the smallest normal float becomes
 * zero: subnormal arithmetic is slow. Input 0 is tiny in the first step and zero afterwards, so its weights'
 * moments start tiny and shrink by beta1 (momentum) each step (Adam's v underflows to zero at once); their steps are
 * visible next to weights that start at zero until the moments drop below FLT_MIN (after 14-41 steps). Eight
 * outputs, so that the vector loops of the update see input 0's weights. */
static void test_optimizers_flush_tiny_moments(void)
{
    enum { OUT = 8, STEPS = 60 };
    const int32_t sizes[2] = {2, OUT};
    const int32_t y = 0;
    for (int adam = 0; adam <= 1; ++adam) {
        mlp_network *net;
        CHECK_OK(mlp_network_create(1, sizes, MLP_ACT_IDENTITY, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        mlp_train_config c = test_train_config(adam ? MLP_OPT_ADAM : MLP_OPT_SGD, 0.01f, 1, 1);
        c.momentum = adam ? 0.0f : 0.9f;
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        static float w[STEPS + 1][2 * OUT];
        float b[OUT];
        for (int step = 1; step <= STEPS; ++step) {
            const float x[2] = {step > 1 ? 0.0f : adam ? 4e-36f : 1e-34f, 1.0f};
            double loss;
            CHECK_OK(mlp_trainer_step(t, x, 2, 1, NULL, 1, &y, NULL, NULL, 1, &loss));
            CHECK_OK(mlp_network_get_layer(net, 0, w[step], 2 * OUT, b, OUT));
        }
        for (int j = 0; j < OUT; ++j) { /* input 0's weights: w[.][j] */
            CHECK(w[1][j] != 0.0f && fabsf(w[1][j]) < 1e-30f, "adam=%d output %d: the tiny input's first step is %g",
                  adam, j, w[1][j]);
            CHECK(w[8][j] != w[6][j], "adam=%d output %d: a normal moment made no step (%g)", adam, j, w[6][j]);
            CHECK(w[STEPS][j] == w[45][j], "adam=%d output %d: a moment below FLT_MIN still moves the weight (%g -> %g)",
                  adam, j, w[45][j], w[STEPS][j]);
        }
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
}

/* Dropout changes the training loss (masks are live) but neither evaluation nor scoring. */
static void test_dropout_only_while_training(void)
{
    const int32_t sizes[3] = {20, 64, 3};
    enum { ROWS = 32 };
    uint64_t seed = 4;
    float x[ROWS * 20];
    int32_t y[ROWS];
    for (int i = 0; i < ROWS * 20; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) y[i] = i % 3;
    double loss[2], eval[2];
    for (int k = 0; k < 2; ++k) {
        mlp_network *net;
        CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        CHECK_OK(mlp_network_init(net, 5));
        mlp_train_config c = test_train_config(MLP_OPT_SGD, 0.1f, ROWS, 1);
        c.dropout_rate = k ? 0.5f : 0.0f;
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        CHECK_OK(mlp_trainer_step(t, x, 20, ROWS, NULL, ROWS, y, NULL, NULL, 0, &loss[k]));
        double m, w;
        CHECK_OK(mlp_trainer_evaluate(t, x, 20, ROWS, NULL, ROWS, y, NULL, NULL, &eval[k], &m, &w));
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
    CHECK(loss[0] != loss[1], "dropout did not change the training loss (%g)", loss[0]);
    CHECK(eval[0] == eval[1], "dropout leaked into evaluation: %g vs %g", eval[0], eval[1]);
    CHECK(fabs(eval[0] / ROWS - loss[0]) < 1e-6, "evaluation (%g) and training loss (%g) disagree without dropout",
          eval[0] / ROWS, loss[0]);
}

/* Scoring is bit-identical with 1 or 2 threads, row by row or in a batch (big enough to use 2 threads). */
static void test_predict_threads(void)
{
    const int32_t sizes[3] = {784, 256, 10};
    enum { ROWS = 70 };
    uint64_t seed = 8;
    float *x = malloc(sizeof(float) * ROWS * 784), one[10];
    float *a = malloc(sizeof(float) * ROWS * 10), *b = malloc(sizeof(float) * ROWS * 10);
    for (int i = 0; i < ROWS * 784; ++i) x[i] = test_uniform(&seed);
    mlp_network *net;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 2));
    int64_t ws_count;
    CHECK_OK(mlp_network_workspace_size(net, ROWS, &ws_count));
    float *ws = malloc(sizeof(float) * (size_t)ws_count);
    CHECK_OK(mlp_network_predict(net, x, 784, ROWS, MLP_OUTPUT_PROBABILITY, a, 10, ws, ws_count, 1));
    CHECK_OK(mlp_network_predict(net, x, 784, ROWS, MLP_OUTPUT_PROBABILITY, b, 10, ws, ws_count, 2));
    CHECK(memcmp(a, b, sizeof(float) * ROWS * 10) == 0, "batch scores differ between 1 and 2 threads");
    for (int r = 0; r < ROWS; r += 7) {
        CHECK_OK(mlp_network_predict(net, x + r * 784, 784, 1, MLP_OUTPUT_PROBABILITY, one, 10, ws, ws_count, 2));
        CHECK(memcmp(one, a + r * 10, sizeof one) == 0, "row %d scores differently alone with 2 threads", r);
    }
    CHECK(mlp_network_predict(net, x, 784, 1, MLP_OUTPUT_RAW, one, 10, ws, ws_count, -1) == MLP_ERR_INVALID_ARGUMENT,
          "negative thread count accepted");
    mlp_network_destroy(net);
    free(x), free(a), free(b), free(ws);
}

/* With a team of 2 (a batch big enough for it), a bad label in the rows the second thread scores is reported
 * in the caller's thread with its message, and nothing is trained; the loss does not depend on the team. */
static void test_team_loss(void)
{
    const int32_t sizes[3] = {300, 64, 10};
    enum { ROWS = 96 };
    uint64_t seed = 9;
    float *x = malloc(sizeof(float) * ROWS * 300);
    int32_t y[ROWS];
    for (int i = 0; i < ROWS * 300; ++i) x[i] = test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) y[i] = i % 10;
    double losses[2];
    for (int threads = 1; threads <= 2; ++threads) {
        mlp_network *net;
        CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        CHECK_OK(mlp_network_init(net, 3));
        mlp_train_config c = test_train_config(MLP_OPT_ADAM, 1e-3f, ROWS, threads);
        mlp_trainer *t;
        CHECK_OK(mlp_trainer_create(net, &c, &t));
        float before[64 * 10], after[64 * 10], bias[10];
        CHECK_OK(mlp_network_get_layer(net, 1, before, 64 * 10, bias, 10));
        y[ROWS - 1] = 10;
        double loss = 0;
        CHECK(mlp_trainer_step(t, x, 300, ROWS, NULL, ROWS, y, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT,
              "label 10 of 10 classes accepted with %d threads", threads);
        CHECK(strstr(mlp_last_error_message(), "label 10 of row 95") != NULL, "message: %s", mlp_last_error_message());
        y[ROWS - 1] = (ROWS - 1) % 10;
        CHECK_OK(mlp_network_get_layer(net, 1, after, 64 * 10, bias, 10));
        CHECK(memcmp(before, after, sizeof before) == 0, "a rejected batch changed the network");
        CHECK_OK(mlp_trainer_step(t, x, 300, ROWS, NULL, ROWS, y, NULL, NULL, 1, &losses[threads - 1]));
        mlp_trainer_destroy(t);
        mlp_network_destroy(net);
    }
    CHECK(losses[0] == losses[1], "the loss differs between 1 and 2 threads: %.17g vs %.17g", losses[0], losses[1]);
    free(x);
}

static void test_arguments(void)
{
    mlp_network *net = NULL;
    const int32_t sizes[3] = {4, 3, 2};
    const int32_t zero[3] = {4, 0, 2};
    CHECK(mlp_network_create(2, zero, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net) == MLP_ERR_INVALID_ARGUMENT && !net,
          "zero-width layer accepted");
    CHECK(mlp_network_create(0, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net) == MLP_ERR_INVALID_ARGUMENT,
          "zero layers accepted");
    CHECK(mlp_network_create(2, sizes, 17, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net) == MLP_ERR_INVALID_ARGUMENT,
          "bad activation accepted");
    CHECK(mlp_network_create(2, sizes, MLP_ACT_RELU, MLP_LOSS_SIGMOID_LOG_LOSS, &net) == MLP_ERR_INVALID_ARGUMENT,
          "binary loss with two outputs accepted");
    const int32_t huge[3] = {1 << 24, 1 << 24, 2};
    CHECK(mlp_network_create(2, huge, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net) == MLP_ERR_INVALID_ARGUMENT,
          "2^48 parameters accepted");
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    float w[12], b[3];
    CHECK(mlp_network_get_layer(net, 2, w, 12, b, 3) == MLP_ERR_INVALID_ARGUMENT, "layer 2 of 2 accepted");
    CHECK(mlp_network_get_layer(net, 0, w, 11, b, 3) == MLP_ERR_INVALID_ARGUMENT, "short weight buffer accepted");
    memset(w, 0, sizeof w), memset(b, 0, sizeof b);
    w[3] = NAN;
    CHECK(mlp_network_set_layer(net, 0, w, 12, b, 3) == MLP_ERR_INVALID_ARGUMENT, "NaN weight accepted");

    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 0.01f, 8, 1);
    mlp_trainer *t = NULL;
    c.struct_size = 8;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT && !t, "wrong struct_size accepted");
    c = test_train_config(MLP_OPT_ADAM, -1.0f, 8, 1);
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "negative learning rate accepted");
    c = test_train_config(MLP_OPT_SGD, 0.1f, 8, 1);
    c.momentum = 1.0f;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "momentum 1 accepted");
    c = test_train_config(MLP_OPT_ADAM, 0.01f, 8, 1);
    c.dropout_rate = 1.0f;
    CHECK(mlp_trainer_create(net, &c, &t) == MLP_ERR_INVALID_ARGUMENT, "dropout 1 accepted");
    c = test_train_config(MLP_OPT_ADAM, 0.01f, 8, 1);
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    int32_t finite = 0;
    CHECK_OK(mlp_network_all_finite(net, &finite));
    CHECK(finite == 1, "fresh network reported non-finite");
    float x[16] = {0};
    int32_t y[4] = {0, 1, 0, 1}, bad_idx[2] = {0, 4};
    double loss;
    CHECK(mlp_trainer_step(t, x, 4, 4, NULL, 9, y, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT, "batch > max");
    CHECK(mlp_trainer_step(t, x, 4, 4, bad_idx, 2, y, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT,
          "row index past x accepted");
    /* more rows than x has: reported before any label past x's rows is read (ASan checks the order) */
    CHECK(mlp_trainer_step(t, x, 4, 4, NULL, 6, y, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT &&
              strstr(mlp_last_error_message(), "rows requested") != NULL,
          "6 rows of a 4-row x accepted: %s", mlp_last_error_message());
    CHECK(mlp_trainer_step(t, x, INT64_MAX / 2, 4, NULL, 4, y, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT &&
              strstr(mlp_last_error_message(), "address space") != NULL,
          "an x beyond the address space accepted: %s", mlp_last_error_message());
    y[2] = 2;
    CHECK(mlp_trainer_step(t, x, 4, 4, NULL, 4, y, NULL, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT,
          "label out of range accepted");
    y[2] = 0;
    const float nan_w[4] = {1, NAN, 1, 1};
    CHECK(mlp_trainer_step(t, x, 4, 4, NULL, 4, y, NULL, nan_w, 1, &loss) == MLP_ERR_NOT_FINITE, "NaN loss accepted");
    CHECK(strstr(mlp_last_error_message(), "learning rate") != NULL, "message: %s", mlp_last_error_message());
    CHECK(mlp_trainer_step(t, x, 4, 4, NULL, 4, NULL, (float[4]){0}, NULL, 1, &loss) == MLP_ERR_INVALID_ARGUMENT,
          "targets for softmax accepted");
    CHECK_OK(mlp_trainer_step(t, x, 4, 4, NULL, 4, y, NULL, NULL, 1, &loss));
    CHECK(mlp_trainer_set_learning_rate(t, NAN) == MLP_ERR_INVALID_ARGUMENT, "NaN learning rate accepted");
    CHECK_OK(mlp_trainer_destroy(t));
    CHECK_OK(mlp_network_destroy(net));
    CHECK_OK(mlp_network_destroy(NULL));
    CHECK_OK(mlp_trainer_destroy(NULL));
}

int main(void)
{
    printf("isa: %s\n", mlp_isa());
    test_gradient_check();
    test_learns_xor();
    test_consistency();
    test_adamw();
    test_optimizers_flush_tiny_moments();
    test_dropout_only_while_training();
    test_predict_threads();
    test_team_loss();
    test_arguments();
    return test_report("test_network");
}
