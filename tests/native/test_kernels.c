/* Activations and losses: forward against scalar references, gradients by finite differences,
 * stability for extreme logits, argument checks. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

static double act_ref(int act, double x)
{
    switch (act) {
    case MLP_ACT_RELU: return x > 0 ? x : 0;
    case MLP_ACT_LEAKY_RELU: return x > 0 ? x : 0.01 * x;
    case MLP_ACT_TANH: return tanh(x);
    case MLP_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case MLP_ACT_SELU: return x > 0 ? 1.0507009873554805 * x : 1.0507009873554805 * 1.6732632423543772 * (exp(x) - 1);
    default: return x;
    }
}

static void test_activations(void)
{
    enum { ROWS = 3, COLS = 37, LD = 40 };
    uint64_t seed = 3;
    for (int act = MLP_ACT_IDENTITY; act <= MLP_ACT_LAST; ++act) {
        float x[ROWS * LD], bias[COLS], h[ROWS * LD], g[ROWS * LD];
        for (int i = 0; i < ROWS * LD; ++i) x[i] = 6.0f * test_uniform(&seed);
        x[5] = 100.0f, x[6] = -100.0f, x[7] = 0.0f; /* saturation and the kink */
        for (int j = 0; j < COLS; ++j) bias[j] = test_uniform(&seed);
        memcpy(h, x, sizeof h);
        CHECK_OK(mlp_bias_activation_forward(act, ROWS, COLS, bias, h, LD));
        for (int r = 0; r < ROWS; ++r)
            for (int j = 0; j < LD; ++j) {
                const int i = r * LD + j;
                if (j >= COLS) {
                    CHECK(h[i] == x[i], "padding changed");
                    continue;
                }
                const double ref = act_ref(act, (double)x[i] + bias[j]);
                CHECK(fabs(h[i] - ref) <= 2e-6 * (1.0 + fabs(ref)), "act %d x=%g: %g vs %g", act, x[i] + bias[j], h[i], ref);
            }
        /* backward: g = 1 * act'(x) from the output, against a central difference */
        for (int i = 0; i < ROWS * LD; ++i) g[i] = 1.0f;
        CHECK_OK(mlp_activation_backward(act, ROWS, COLS, h, LD, g, LD));
        for (int r = 0; r < ROWS; ++r)
            for (int j = 0; j < COLS; ++j) {
                const int i = r * LD + j;
                const double u = (double)x[i] + bias[j], e = 1e-4;
                if (fabs(u) < 1e-3 && (act == MLP_ACT_RELU || act == MLP_ACT_LEAKY_RELU || act == MLP_ACT_SELU)) continue; /* kink */
                const double fd = (act_ref(act, u + e) - act_ref(act, u - e)) / (2 * e);
                CHECK(fabs(g[i] - fd) <= 1e-3 * (1.0 + fabs(fd)), "act %d backward at %g: %g vs %g", act, u, g[i], fd);
            }
    }
    CHECK(mlp_bias_activation_forward(9, 1, 1, NULL, (float[1]){0}, 1) == MLP_ERR_INVALID_ARGUMENT, "bad activation");
    CHECK(mlp_bias_activation_forward(0, 1, 2, NULL, (float[2]){0}, 1) == MLP_ERR_INVALID_ARGUMENT, "ld < cols");
    CHECK(mlp_activation_backward(1, 2, 2, NULL, 2, (float[4]){0}, 2) == MLP_ERR_INVALID_ARGUMENT, "NULL h");
}

/* Finite-difference check of mlp_loss_forward_backward's gradient for one loss. */
static void check_loss_gradient(int loss, int64_t rows, int64_t cols, const int32_t *labels, const float *targets,
                                const float *weights, uint64_t *seed)
{
    float z[64], grad[64];
    for (int64_t i = 0; i < rows * cols; ++i) z[i] = 3.0f * test_uniform(seed);
    double value;
    CHECK_OK(mlp_loss_forward_backward(loss, rows, cols, z, cols, labels, targets, weights, grad, cols, &value));
    for (int64_t i = 0; i < rows * cols; ++i) {
        const float saved = z[i], e = 1e-2f;
        double up, down;
        z[i] = saved + e;
        CHECK_OK(mlp_loss_forward_backward(loss, rows, cols, z, cols, labels, targets, weights, NULL, cols, &up));
        z[i] = saved - e;
        CHECK_OK(mlp_loss_forward_backward(loss, rows, cols, z, cols, labels, targets, weights, NULL, cols, &down));
        z[i] = saved;
        const double fd = (up - down) / (2.0 * e);
        CHECK(fabs(grad[i] - fd) <= 2e-3 * (1.0 + fabs(fd)), "loss %d: d/dz[%lld] = %g, finite difference %g", loss,
              (long long)i, grad[i], fd);
    }
}

static void test_losses(void)
{
    uint64_t seed = 11;
    const int32_t labels[4] = {0, 3, 2, 4};
    const float weights[4] = {1.0f, 0.5f, 2.0f, 1.5f};
    const float binary[4] = {0.0f, 1.0f, 1.0f, 0.0f};
    float reg[8];
    for (int i = 0; i < 8; ++i) reg[i] = 5.0f * test_uniform(&seed);
    check_loss_gradient(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, 4, 5, labels, NULL, NULL, &seed);
    check_loss_gradient(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, 4, 5, labels, NULL, weights, &seed);
    check_loss_gradient(MLP_LOSS_SIGMOID_LOG_LOSS, 4, 1, NULL, binary, weights, &seed);
    check_loss_gradient(MLP_LOSS_SQUARED, 4, 2, NULL, reg, weights, &seed);
    check_loss_gradient(MLP_LOSS_HUBER, 4, 2, NULL, reg, weights, &seed); /* |z - y| spans both sides of 1 */

    /* Huber: quadratic inside |d| <= 1, linear outside */
    {
        float zh[3] = {0.5f, 3.0f, -4.0f}, gh[3];
        const float yh[3] = {0.0f, 0.0f, 0.0f};
        double vh;
        CHECK_OK(mlp_loss_forward_backward(MLP_LOSS_HUBER, 3, 1, zh, 1, NULL, yh, NULL, gh, 1, &vh));
        CHECK(fabs(vh - (0.125 + 2.5 + 3.5) / 3) < 1e-6, "Huber value %g", vh);
        CHECK(fabs(gh[0] - 0.5f / 3) < 1e-7 && fabs(gh[1] - 1.0f / 3) < 1e-7 && fabs(gh[2] + 1.0f / 3) < 1e-7,
              "Huber gradient %g %g %g", gh[0], gh[1], gh[2]);
    }

    /* hinge: gradient exact away from the hinge point */
    float z[2] = {0.3f, 2.0f}, g[2];
    const float t[2] = {1.0f, 1.0f};
    double v;
    CHECK_OK(mlp_loss_forward_backward(MLP_LOSS_HINGE, 2, 1, z, 1, NULL, t, NULL, g, 1, &v));
    CHECK(fabs(v - 0.35) < 1e-6, "hinge value %g", v);
    CHECK(g[0] == -0.5f && g[1] == 0.0f, "hinge gradient %g %g", g[0], g[1]);

    /* stability: logits of +-1e4 must give finite loss and a valid gradient */
    float big[3] = {1e4f, -1e4f, 0.0f}, gb[3];
    const int32_t lab = 1;
    CHECK_OK(mlp_loss_forward_backward(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, 1, 3, big, 3, &lab, NULL, NULL, gb, 3, &v));
    CHECK(isfinite(v) && fabs(v - 2e4) < 1.0, "softmax CE with huge logits: %g", v);
    CHECK(fabs(gb[0] - 1.0f) < 1e-6 && fabs(gb[1] + 1.0f) < 1e-6 && fabs(gb[2]) < 1e-6, "gradient %g %g %g", gb[0], gb[1],
          gb[2]);
    float zl = -200.0f, gl;
    const float one = 1.0f;
    CHECK_OK(mlp_loss_forward_backward(MLP_LOSS_SIGMOID_LOG_LOSS, 1, 1, &zl, 1, NULL, &one, NULL, &gl, 1, &v));
    CHECK(isfinite(v) && fabs(v - 200.0) < 1e-3 && fabs(gl + 1.0f) < 1e-6, "log-loss at -200: %g, grad %g", v, gl);

    /* argument checks */
    const int32_t bad = 5;
    CHECK(mlp_loss_forward_backward(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, 1, 3, big, 3, &bad, NULL, NULL, gb, 3, &v) ==
              MLP_ERR_INVALID_ARGUMENT, "label out of range accepted");
    CHECK(mlp_loss_forward_backward(MLP_LOSS_SIGMOID_LOG_LOSS, 1, 2, big, 2, NULL, t, NULL, gb, 2, &v) ==
              MLP_ERR_INVALID_ARGUMENT, "binary loss with 2 outputs accepted");
    CHECK(mlp_loss_forward_backward(7, 1, 3, big, 3, &lab, NULL, NULL, gb, 3, &v) == MLP_ERR_INVALID_ARGUMENT,
          "unknown loss accepted");
    CHECK(mlp_loss_forward_backward(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, 1, 3, big, 3, NULL, NULL, NULL, gb, 3, &v) ==
              MLP_ERR_INVALID_ARGUMENT, "missing labels accepted");
}

int main(void)
{
    printf("isa: %s\n", mlp_isa());
    test_activations();
    test_losses();
    return test_report("test_kernels");
}
