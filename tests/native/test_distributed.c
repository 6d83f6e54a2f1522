/* The split step of data-parallel training: mlp_trainer_step(update = 0) + mlp_trainer_apply_gradient makes exactly
 * the update of mlp_trainer_step(update = 1) (Adam and SGD with momentum, L2, weight decay, the input scale, rate
 * factors, several steps, 1 and 2 threads); two half batches whose buffers are averaged step like the whole batch;
 * a non-finite buffer changes nothing; and the argument checks. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

enum { IN = 6, H = 9, OUT = 3, ROWS = 16, STEPS = 5 };
static const int32_t sizes[3] = {IN, H, OUT};

static void make_data(float *x, int32_t *labels)
{
    uint64_t seed = 21;
    for (int i = 0; i < ROWS * IN; ++i) x[i] = 2.0f * test_uniform(&seed);
    for (int i = 0; i < ROWS; ++i) labels[i] = (i * 7) % OUT;
}

static mlp_network *make_net(void)
{
    mlp_network *net = NULL;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 3));
    return net;
}

static mlp_train_config config(int optimizer, int input_scale, int threads)
{
    mlp_train_config c = test_train_config(optimizer, 0.05f, ROWS, threads);
    c.momentum = optimizer == MLP_OPT_SGD ? 0.9f : 0.0f;
    c.l2 = 1e-3f;
    c.weight_decay = 1e-2f;
    c.input_scale = input_scale;
    c.input_scale_rate = input_scale ? 0.5f : 0.0f;
    return c;
}

enum { NP = IN * H + H + H * OUT + OUT };

static void test_split_step_equals_the_step(int optimizer, int input_scale, int threads)
{
    float x[ROWS * IN];
    int32_t labels[ROWS];
    make_data(x, labels);
    mlp_network *a = make_net(), *b = make_net();
    mlp_train_config c = config(optimizer, input_scale, threads);
    mlp_trainer *ta, *tb;
    CHECK_OK(mlp_trainer_create(a, &c, &ta));
    CHECK_OK(mlp_trainer_create(b, &c, &tb));
    const float weight_rates[2] = {1.0f, 0.5f}, bias_rates[2] = {0.25f, 1.0f};
    CHECK_OK(mlp_trainer_set_rate_factors(ta, 2, weight_rates, bias_rates));
    CHECK_OK(mlp_trainer_set_rate_factors(tb, 2, weight_rates, bias_rates));
    for (int s = 0; s < STEPS; ++s) {
        double la, lb;
        CHECK_OK(mlp_trainer_step(ta, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 1, &la));
        CHECK_OK(mlp_trainer_step(tb, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 0, &lb));
        CHECK_OK(mlp_trainer_apply_gradient(tb));
        CHECK(la == lb, "step %d: losses %.17g and %.17g", s, la, lb);
    }
    float pa[NP], pb[NP];
    test_get_params(a, 2, sizes, pa);
    test_get_params(b, 2, sizes, pb);
    CHECK(memcmp(pa, pb, sizeof pa) == 0, "optimizer %d, input scale %d, %d threads: the split step differs", optimizer,
          input_scale, threads);
    mlp_trainer_destroy(ta);
    mlp_trainer_destroy(tb);
    mlp_network_destroy(a);
    mlp_network_destroy(b);
}

/* Two "ranks" with half a batch each: their buffers, each scaled by 1/2 and summed, step like the whole batch (up to
 * the summation order of the gradient). */
static void test_two_halves_step_like_the_batch(void)
{
    float x[ROWS * IN];
    int32_t labels[ROWS];
    make_data(x, labels);
    mlp_network *whole = make_net(), *r0 = make_net(), *r1 = make_net();
    mlp_train_config c = config(MLP_OPT_ADAM, 1, 1);
    mlp_trainer *tw, *t0, *t1;
    CHECK_OK(mlp_trainer_create(whole, &c, &tw));
    CHECK_OK(mlp_trainer_create(r0, &c, &t0));
    CHECK_OK(mlp_trainer_create(r1, &c, &t1));
    for (int s = 0; s < STEPS; ++s) {
        double loss;
        CHECK_OK(mlp_trainer_step(tw, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 1, &loss));
        CHECK_OK(mlp_trainer_step(t0, x, IN, ROWS, NULL, ROWS / 2, labels, NULL, NULL, 0, &loss));
        CHECK_OK(mlp_trainer_step(t1, x + (ROWS / 2) * IN, IN, ROWS / 2, NULL, ROWS / 2, labels + ROWS / 2, NULL, NULL,
                                  0, &loss));
        float *g0, *g1;
        int64_t n0, n1;
        CHECK_OK(mlp_trainer_gradient_buffer(t0, &g0, &n0));
        CHECK_OK(mlp_trainer_gradient_buffer(t1, &g1, &n1));
        CHECK(n0 == NP && n1 == NP, "buffer sizes %lld, %lld; expected %d", (long long)n0, (long long)n1, NP);
        for (int64_t i = 0; i < n0; ++i) g0[i] = g1[i] = 0.5f * g0[i] + 0.5f * g1[i]; /* the allreduce */
        CHECK_OK(mlp_trainer_apply_gradient(t0));
        CHECK_OK(mlp_trainer_apply_gradient(t1));
    }
    float pw[NP], p0[NP], p1[NP];
    test_get_params(whole, 2, sizes, pw);
    test_get_params(r0, 2, sizes, p0);
    test_get_params(r1, 2, sizes, p1);
    CHECK(memcmp(p0, p1, sizeof p0) == 0, "the two ranks' weights differ");
    double worst = 0.0;
    for (int i = 0; i < NP; ++i) { /* (not fmax: aarch64 gcc 12 fails vectorising that reduction, an ICE) */
        const double d = fabs((double)pw[i] - p0[i]);
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-5, "the averaged halves are %g away from the whole batch", worst);
    mlp_trainer_destroy(tw);
    mlp_trainer_destroy(t0);
    mlp_trainer_destroy(t1);
    mlp_network_destroy(whole);
    mlp_network_destroy(r0);
    mlp_network_destroy(r1);
}

static void test_non_finite_buffer_and_arguments(void)
{
    float x[ROWS * IN];
    int32_t labels[ROWS];
    make_data(x, labels);
    mlp_network *net = make_net();
    mlp_train_config c = config(MLP_OPT_ADAM, 0, 1);
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double loss;
    CHECK_OK(mlp_trainer_step(t, x, IN, ROWS, NULL, ROWS, labels, NULL, NULL, 0, &loss));
    float *g;
    int64_t n;
    CHECK_OK(mlp_trainer_gradient_buffer(t, &g, &n));
    float before[NP], after[NP];
    test_get_params(net, 2, sizes, before);
    g[n - 1] = NAN;
    CHECK(mlp_trainer_apply_gradient(t) == MLP_ERR_NOT_FINITE, "a NaN gradient must be refused");
    CHECK(strstr(mlp_last_error_message(), "not finite") != NULL, "message: %s", mlp_last_error_message());
    test_get_params(net, 2, sizes, after);
    CHECK(memcmp(before, after, sizeof before) == 0, "a refused update changed the weights");
    CHECK(mlp_trainer_gradient_buffer(NULL, &g, &n) == MLP_ERR_INVALID_ARGUMENT, "NULL trainer");
    CHECK(mlp_trainer_gradient_buffer(t, NULL, &n) == MLP_ERR_INVALID_ARGUMENT, "NULL gradient");
    CHECK(mlp_trainer_gradient_buffer(t, &g, NULL) == MLP_ERR_INVALID_ARGUMENT, "NULL count");
    CHECK(mlp_trainer_apply_gradient(NULL) == MLP_ERR_INVALID_ARGUMENT, "NULL trainer");
    mlp_trainer_destroy(t);

    c.sparse_input = 1;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    CHECK_OK(mlp_trainer_gradient_buffer(t, &g, &n));
    CHECK(n == NP - IN * H, "a sparse trainer's buffer leaves out the first layer's weights: %lld floats", (long long)n);
    CHECK(mlp_trainer_apply_gradient(t) == MLP_ERR_INVALID_ARGUMENT, "a sparse trainer cannot apply a dense buffer");
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

int main(void)
{
    printf("isa: %s\n", mlp_isa());
    for (int threads = 1; threads <= 2; ++threads) {
        test_split_step_equals_the_step(MLP_OPT_ADAM, 0, threads);
        test_split_step_equals_the_step(MLP_OPT_ADAM, 1, threads);
        test_split_step_equals_the_step(MLP_OPT_SGD, 0, threads);
        test_split_step_equals_the_step(MLP_OPT_SGD, 1, threads);
    }
    test_two_halves_step_like_the_batch();
    test_non_finite_buffer_and_arguments();
    return test_report("test_distributed");
}
