/* The portable exp/log/log1p/cos(2 pi u)/tanh (native/src/portable_math.h) against the C library's double
 * functions: within 2 ulp of double everywhere sampled (log1p 6), the float results equal to the float rounding of the
 * library's double result (at most 1 float ulp apart, on a tiny share of the points), and the special values.
 * Also run under Wine (msvcrt) and qemu (aarch64 glibc) by scripts/check-windows.sh and check-arm64.sh.
 * The softmax loss and the softmax output, whose exps the kernel sets compute in vector lanes, must give the bits of
 * a scalar reference built on mlp_exp (CTest runs this under every kernel set). */
#include "test_util.h"

#include <float.h>

#include "portable_math.h"

/* Distance in units in the last place between two finite doubles of the same sign. */
static double ulps(double a, double b)
{
    if (a == b) return 0.0;
    int64_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    if (ia < 0) ia = INT64_MIN - ia;
    if (ib < 0) ib = INT64_MIN - ib;
    return (double)(ia > ib ? (uint64_t)ia - (uint64_t)ib : (uint64_t)ib - (uint64_t)ia); /* exact in integers */
}

static double float_ulps(float a, float b)
{
    if (a == b) return 0.0;
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    if (ia < 0) ia = INT32_MIN - ia;
    if (ib < 0) ib = INT32_MIN - ib;
    return fabs((double)ia - (double)ib);
}

typedef struct stats { double worst; int float_off; int points; } stats;

static void record(stats *s, double ours, double ref)
{
    const double u = ulps(ours, ref);
    if (u > s->worst) s->worst = u;
    if ((float)ours != (float)ref) {
        ++s->float_off;
        CHECK(float_ulps((float)ours, (float)ref) <= 1.0, "float results %.9g and %.9g more than 1 ulp apart",
              (double)(float)ours, (double)(float)ref);
    }
    ++s->points;
}

static void report(const char *name, const stats *s, double limit)
{
    printf("%-8s %d points: worst %.2f double ulp, %d float results off by 1 ulp\n", name, s->points, s->worst,
           s->float_off);
    CHECK(s->worst <= limit, "%s: worst error %.2f ulp (limit %.0f)", name, s->worst, limit);
    CHECK(s->float_off * 10000 <= s->points, "%s: %d of %d float results differ", name, s->float_off, s->points);
}

/* Logits whose shifts from the row maximum cover mlp_exp's branches: 0, the float range, float underflow, double
 * subnormal results, below exp's range, and ties. */
static float tricky_logit(uint64_t *seed, int64_t j)
{
    static const float spreads[] = {0.0f, 1.0f, 30.0f, 95.0f, 110.0f, 720.0f, 744.5f, 760.0f, 2000.0f};
    const double u = (double)(test_rng_next(seed) >> 11) * 0x1.0p-53;
    return j % 7 == 3 ? 5.0f : (float)(5.0 - spreads[test_rng_next(seed) % 9] * u);
}

/* The scalar reference of softmax cross-entropy (no smoothing): loss and gradient, as loss.c computes them. */
static double reference_softmax_loss(int64_t cols, const float *z, int32_t label, float scale, float *grad)
{
    float zmax = z[0];
    for (int64_t j = 1; j < cols; ++j) zmax = z[j] > zmax ? z[j] : zmax;
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
        grad[j] = mlp_expf(z[j] - zmax);
        sum += grad[j];
    }
    const double inv = 1.0 / sum;
    for (int64_t j = 0; j < cols; ++j) grad[j] = (float)((double)grad[j] * inv - (j == label ? 1.0 : 0.0)) * scale;
    return (double)(float)(mlp_log(sum) - (double)(z[label] - zmax));
}

static void test_softmax_bits(uint64_t *seed)
{
    static const int64_t widths[] = {2, 3, 10, 37, 1500};
    enum { ROWS = 41, MAX_COLS = 1500 };
    static float z[ROWS * MAX_COLS], grad[ROWS * MAX_COLS], ref[ROWS * MAX_COLS], probs[ROWS * MAX_COLS];
    static float eye[MAX_COLS * MAX_COLS], zeros[MAX_COLS];
    int32_t labels[ROWS];
    for (int w = 0; w < (int)(sizeof widths / sizeof widths[0]); ++w) {
        const int64_t cols = widths[w];
        for (int64_t i = 0; i < ROWS * cols; ++i) z[i] = tricky_logit(seed, i % cols);
        for (int r = 0; r < ROWS; ++r) labels[r] = (int32_t)(test_rng_next(seed) % (uint64_t)cols);
        double loss, ref_loss = 0.0;
        CHECK_OK(mlp_loss_forward_backward(MLP_LOSS_SOFTMAX_CROSS_ENTROPY, ROWS, cols, z, cols, labels, NULL, NULL, grad,
                                           cols, &loss));
        for (int r = 0; r < ROWS; ++r)
            ref_loss += reference_softmax_loss(cols, z + r * cols, labels[r], 1.0f / ROWS, ref + r * cols);
        CHECK(memcmp(grad, ref, sizeof(float) * (size_t)(ROWS * cols)) == 0, "%lld classes: the softmax gradient differs "
              "from the scalar reference", (long long)cols);
        CHECK(loss == ref_loss / ROWS, "%lld classes: loss %.17g, reference %.17g", (long long)cols, loss, ref_loss / ROWS);

        /* the network's softmax output: a linear layer of the identity passes the logits through exactly */
        mlp_network *net;
        const int32_t sizes[] = {(int32_t)cols, (int32_t)cols};
        CHECK_OK(mlp_network_create(1, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
        memset(eye, 0, sizeof(float) * (size_t)(cols * cols));
        for (int64_t j = 0; j < cols; ++j) eye[j * cols + j] = 1.0f;
        CHECK_OK(mlp_network_set_layer(net, 0, eye, cols * cols, zeros, cols));
        int64_t ws_count;
        CHECK_OK(mlp_network_workspace_size(net, ROWS, &ws_count));
        float *ws = malloc(sizeof(float) * (size_t)ws_count);
        CHECK_OK(mlp_network_predict(net, z, cols, ROWS, MLP_OUTPUT_PROBABILITY, probs, cols, ws, ws_count, 1));
        int same = 1;
        for (int r = 0; r < ROWS && same; ++r) {
            const float *zr = z + r * cols;
            float zmax = zr[0];
            for (int64_t j = 1; j < cols; ++j) zmax = zr[j] > zmax ? zr[j] : zmax;
            double sum = 0.0;
            for (int64_t j = 0; j < cols; ++j) sum += mlp_exp((double)(zr[j] - zmax));
            for (int64_t j = 0; j < cols && same; ++j)
                same = probs[r * cols + j] == (float)(mlp_exp((double)(zr[j] - zmax)) / sum);
        }
        CHECK(same, "%lld classes: softmax probabilities differ from the scalar reference", (long long)cols);
        free(ws);
        mlp_network_destroy(net);
    }
}

int main(void)
{
    uint64_t seed = 7;
    const int n = 200000;
    stats e = {0}, l = {0}, l1 = {0}, c = {0}, t = {0};
    for (int i = 0; i < n; ++i) {
        const double u = (double)(test_rng_next(&seed) >> 11) * 0x1.0p-53;
        const double x = -740.0 + 1449.0 * u; /* the whole finite range of exp, subnormal results included */
        const double xs = (u - 0.5) * 40.0;   /* where the loss and the activations live */
        record(&e, mlp_exp(x), exp(x));
        record(&e, mlp_exp(xs), exp(xs));
        const double pos = ldexp(1.0 + u, (int)(test_rng_next(&seed) % 2000) - 1000);
        record(&l, mlp_log(pos), log(pos));
        record(&l, mlp_log(0.5 + u), log(0.5 + u));
        const double y = ldexp(u, -(int)(test_rng_next(&seed) % 60));
        record(&l1, mlp_log1p(y), log1p(y));
        record(&c, mlp_cos_2pi(u), cos(6.283185307179586 * u));
        const float xf = (float)xs * (i % 2 ? 1.0f : 0.001f);
        if (mlp_tanhf(xf) != (float)tanh((double)xf)) {
            ++t.float_off;
            CHECK(float_ulps(mlp_tanhf(xf), (float)tanh((double)xf)) <= 1.0, "tanh(%.9g)", (double)xf);
        }
        ++t.points;
    }
    report("exp", &e, 2.0);
    report("log", &l, 2.0);
    report("log1p", &l1, 6.0); /* log of a rounded 1 + y, corrected to first order (4 ulp from msvcrt's log1p) */
    /* cos(2 pi u) is compared with cos of the rounded product 2 pi u, which is itself off by up to half an ulp of
     * the angle: near the zeros (u ~ 1/4, 3/4) that is many ulps of the result, so only the float results count. */
    printf("cos_2pi  %d points: %d float results off by 1 ulp\n", c.points, c.float_off);
    CHECK(c.float_off * 1000 <= c.points, "cos_2pi: %d of %d float results differ", c.float_off, c.points);
    printf("tanhf    %d points: %d float results off by 1 ulp\n", t.points, t.float_off);
    CHECK(t.float_off * 10000 <= t.points, "tanhf: %d of %d float results differ", t.float_off, t.points);

    /* special values */
    CHECK(mlp_exp(0.0) == 1.0, "exp(0)");
    CHECK(mlp_exp(-INFINITY) == 0.0 && mlp_exp(-746.0) == 0.0, "exp underflow");
    CHECK(mlp_exp(INFINITY) == INFINITY && mlp_exp(710.0) == INFINITY, "exp overflow");
    CHECK(isfinite(mlp_exp(709.7)) && ulps(mlp_exp(709.7), exp(709.7)) <= 2.0, "exp(709.7)");
    CHECK(mlp_exp(-744.0) > 0.0 && mlp_exp(-744.0) < DBL_MIN, "exp(-744) is subnormal");
    CHECK(isnan(mlp_exp(NAN)), "exp(NaN)");
    CHECK(mlp_log(1.0) == 0.0, "log(1)");
    CHECK(mlp_log(0.0) == -INFINITY && isnan(mlp_log(-1.0)) && isnan(mlp_log(NAN)), "log(0), log(-1), log(NaN)");
    CHECK(mlp_log(INFINITY) == INFINITY, "log(inf)");
    CHECK(ulps(mlp_log(5e-324), log(5e-324)) <= 2.0, "log of the smallest subnormal");
    CHECK(ulps(mlp_log(DBL_MAX), log(DBL_MAX)) <= 2.0, "log(DBL_MAX)");
    CHECK(mlp_log1p(0.0) == 0.0 && mlp_log1p(1e-300) == 1e-300, "log1p near 0");
    CHECK(mlp_cos_2pi(0.0) == 1.0 && mlp_cos_2pi(0.5) == -1.0 && fabs(mlp_cos_2pi(0.25)) < 1e-300, "cos at quarter turns");
    CHECK(mlp_tanhf(0.0f) == 0.0f && mlp_tanhf(INFINITY) == 1.0f && mlp_tanhf(-INFINITY) == -1.0f, "tanh limits");
    CHECK(mlp_tanhf(1e-30f) == 1e-30f && isnan(mlp_tanhf(NAN)), "tanh(tiny), tanh(NaN)");
    CHECK(mlp_expf(88.8f) == INFINITY && mlp_expf(-104.0f) == 0.0f, "expf overflow and underflow");
    test_softmax_bits(&seed);
    return test_report("test_portable_math");
}
