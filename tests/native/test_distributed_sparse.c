/* The split step of data-parallel training with a sparse first layer: mlp_trainer_step_csr(update = 0) +
 * mlp_trainer_apply_sparse_gradient with the trainer's own row-sparse gradient makes exactly the update of
 * mlp_trainer_step_csr(update = 1) (Adam and SGD, the input scale, lazy weight decay, 1 and 2 threads); two half
 * batches whose row-sparse gradients are merged over the union of their columns step like the whole batch; bad
 * columns or values are refused and change nothing. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

enum { IN = 40, H = 6, OUT = 3, ROWS = 12, STEPS = 6 };
static const int32_t sizes[3] = {IN, H, OUT};
enum { NP = IN * H + H + H * OUT + OUT };

typedef struct data {
    int64_t offsets[ROWS + 1];
    int32_t columns[ROWS * 4];
    float values[ROWS * 4];
    int32_t labels[ROWS];
    mlp_csr csr;
} data;

/* Three or four distinct columns per row out of 40: every batch leaves most rows of the first layer untouched. */
static void make_data(data *d)
{
    uint64_t seed = 13;
    int64_t nnz = 0;
    for (int r = 0; r < ROWS; ++r) {
        d->offsets[r] = nnz;
        int32_t c = (int32_t)(test_rng_next(&seed) % 8);
        for (int k = 0; k < 3 + r % 2; ++k) {
            d->columns[nnz] = c;
            d->values[nnz++] = 1.0f + test_uniform(&seed) * 0.5f;
            c += 1 + (int32_t)(test_rng_next(&seed) % 10);
        }
        d->labels[r] = (r * 2) % OUT;
    }
    d->offsets[ROWS] = nnz;
    const mlp_csr csr = {ROWS, IN, d->offsets, d->columns, d->values};
    d->csr = csr;
}

static mlp_network *make_net(void)
{
    mlp_network *net = NULL;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 5));
    return net;
}

static mlp_train_config config(int optimizer, int input_scale, int threads)
{
    mlp_train_config c = test_train_config(optimizer, 0.05f, ROWS, threads);
    c.momentum = optimizer == MLP_OPT_SGD ? 0.9f : 0.0f;
    c.l2 = 1e-3f;
    c.weight_decay = 2e-2f;
    c.input_scale = input_scale;
    c.input_scale_rate = input_scale ? 0.5f : 0.0f;
    c.sparse_input = 1;
    return c;
}

/* The weights as dense training would hold them (the lazy decay applied). */
static void params(mlp_trainer *t, const mlp_network *net, float *out)
{
    CHECK_OK(mlp_trainer_sync(t));
    test_get_params(net, 2, sizes, out);
}

/* Rows of step s: alternately all and the even ones, so rows miss steps. */
static const int32_t *rows_of(int s, int *count)
{
    static const int32_t even[ROWS / 2] = {0, 2, 4, 6, 8, 10};
    *count = s % 2 ? ROWS / 2 : ROWS;
    return s % 2 ? even : NULL;
}

static void test_split_step_equals_the_step(int optimizer, int input_scale, int threads)
{
    data d;
    make_data(&d);
    mlp_network *a = make_net(), *b = make_net();
    mlp_train_config c = config(optimizer, input_scale, threads);
    mlp_trainer *ta, *tb;
    CHECK_OK(mlp_trainer_create(a, &c, &ta));
    CHECK_OK(mlp_trainer_create(b, &c, &tb));
    for (int s = 0; s < STEPS; ++s) {
        int n;
        const int32_t *idx = rows_of(s, &n);
        double la, lb;
        CHECK_OK(mlp_trainer_step_csr(ta, &d.csr, idx, n, d.labels, NULL, NULL, 1, &la));
        CHECK_OK(mlp_trainer_step_csr(tb, &d.csr, idx, n, d.labels, NULL, NULL, 0, &lb));
        const int32_t *cols;
        float *rows;
        int64_t count;
        CHECK_OK(mlp_trainer_sparse_gradient(tb, &cols, &rows, &count));
        CHECK(count > 0 && count < IN, "step %d: %lld columns", s, (long long)count);
        CHECK_OK(mlp_trainer_apply_sparse_gradient(tb, cols, rows, count));
        CHECK(la == lb, "step %d: losses %.17g and %.17g", s, la, lb);
    }
    float pa[NP], pb[NP];
    params(ta, a, pa);
    params(tb, b, pb);
    CHECK(memcmp(pa, pb, sizeof pa) == 0, "optimizer %d, input scale %d, %d threads: the split sparse step differs",
          optimizer, input_scale, threads);
    mlp_trainer_destroy(ta);
    mlp_trainer_destroy(tb);
    mlp_network_destroy(a);
    mlp_network_destroy(b);
}

/* The union of two ascending column lists with their rows scaled by 1/2 and summed (a missing row counts 0). */
static int64_t merge(const int32_t *c0, const float *r0, int64_t n0, const int32_t *c1, const float *r1, int64_t n1,
                     int32_t *cols, float *rows)
{
    int64_t i = 0, j = 0, n = 0;
    while (i < n0 || j < n1) {
        const int take0 = j >= n1 || (i < n0 && c0[i] <= c1[j]), take1 = i >= n0 || (j < n1 && c1[j] <= c0[i]);
        cols[n] = take0 ? c0[i] : c1[j];
        for (int k = 0; k < H; ++k)
            rows[n * H + k] = (take0 ? 0.5f * r0[i * H + k] : 0.0f) + (take1 ? 0.5f * r1[j * H + k] : 0.0f);
        i += take0;
        j += take1;
        ++n;
    }
    return n;
}

static void test_two_halves_step_like_the_batch(void)
{
    data d;
    make_data(&d);
    mlp_network *whole = make_net(), *n0 = make_net(), *n1 = make_net();
    mlp_train_config c = config(MLP_OPT_ADAM, 1, 1);
    mlp_trainer *tw, *t0, *t1;
    CHECK_OK(mlp_trainer_create(whole, &c, &tw));
    CHECK_OK(mlp_trainer_create(n0, &c, &t0));
    CHECK_OK(mlp_trainer_create(n1, &c, &t1));
    static const int32_t first[ROWS / 2] = {0, 1, 2, 3, 4, 5}, second[ROWS / 2] = {6, 7, 8, 9, 10, 11};
    for (int s = 0; s < STEPS; ++s) {
        double loss;
        CHECK_OK(mlp_trainer_step_csr(tw, &d.csr, NULL, ROWS, d.labels, NULL, NULL, 1, &loss));
        CHECK_OK(mlp_trainer_step_csr(t0, &d.csr, first, ROWS / 2, d.labels, NULL, NULL, 0, &loss));
        CHECK_OK(mlp_trainer_step_csr(t1, &d.csr, second, ROWS / 2, d.labels, NULL, NULL, 0, &loss));
        const int32_t *c0, *c1;
        float *r0, *r1, *g0, *g1;
        int64_t k0, k1, m0, m1;
        CHECK_OK(mlp_trainer_sparse_gradient(t0, &c0, &r0, &k0));
        CHECK_OK(mlp_trainer_sparse_gradient(t1, &c1, &r1, &k1));
        int32_t cols[IN];
        float rows[IN * H];
        const int64_t n = merge(c0, r0, k0, c1, r1, k1, cols, rows);
        CHECK(n > k0 && n > k1, "the halves touch different columns (%lld, %lld; union %lld)", (long long)k0,
              (long long)k1, (long long)n);
        CHECK_OK(mlp_trainer_gradient_buffer(t0, &g0, &m0));
        CHECK_OK(mlp_trainer_gradient_buffer(t1, &g1, &m1));
        for (int64_t i = 0; i < m0; ++i) g0[i] = g1[i] = 0.5f * g0[i] + 0.5f * g1[i];
        CHECK_OK(mlp_trainer_apply_sparse_gradient(t0, cols, rows, n));
        CHECK_OK(mlp_trainer_apply_sparse_gradient(t1, cols, rows, n));
    }
    float pw[NP], p0[NP], p1[NP];
    params(tw, whole, pw);
    params(t0, n0, p0);
    params(t1, n1, p1);
    CHECK(memcmp(p0, p1, sizeof p0) == 0, "the two ranks' weights differ");
    double worst = 0.0;
    for (int i = 0; i < NP; ++i) {
        const double e = fabs((double)pw[i] - p0[i]);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-5, "the merged halves are %g away from the whole batch", worst);
    mlp_trainer_destroy(tw);
    mlp_trainer_destroy(t0);
    mlp_trainer_destroy(t1);
    mlp_network_destroy(whole);
    mlp_network_destroy(n0);
    mlp_network_destroy(n1);
}

static void test_bad_gradients_are_refused(void)
{
    data d;
    make_data(&d);
    mlp_network *net = make_net();
    mlp_train_config c = config(MLP_OPT_ADAM, 0, 1);
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double loss;
    CHECK_OK(mlp_trainer_step_csr(t, &d.csr, NULL, ROWS, d.labels, NULL, NULL, 0, &loss));
    float before[NP], after[NP];
    params(t, net, before);
    float rows[2 * H];
    for (int k = 0; k < 2 * H; ++k) rows[k] = 0.1f;
    const int32_t unsorted[2] = {5, 3}, duplicate[2] = {4, 4}, outside[2] = {3, IN};
    CHECK(mlp_trainer_apply_sparse_gradient(t, unsorted, rows, 2) == MLP_ERR_INVALID_ARGUMENT, "unsorted columns");
    CHECK(mlp_trainer_apply_sparse_gradient(t, duplicate, rows, 2) == MLP_ERR_INVALID_ARGUMENT, "duplicate columns");
    CHECK(mlp_trainer_apply_sparse_gradient(t, outside, rows, 2) == MLP_ERR_INVALID_ARGUMENT, "column out of range");
    CHECK(mlp_trainer_apply_sparse_gradient(t, NULL, rows, 2) == MLP_ERR_INVALID_ARGUMENT, "NULL columns");
    CHECK(mlp_trainer_apply_sparse_gradient(t, unsorted, rows, IN + 1) == MLP_ERR_INVALID_ARGUMENT, "more rows than inputs");
    CHECK(mlp_trainer_apply_sparse_gradient(t, unsorted, rows, -1) == MLP_ERR_INVALID_ARGUMENT, "negative count");
    const int32_t fine[2] = {3, 5};
    rows[H + 1] = NAN;
    CHECK(mlp_trainer_apply_sparse_gradient(t, fine, rows, 2) == MLP_ERR_NOT_FINITE, "a NaN row");
    CHECK(strstr(mlp_last_error_message(), "column 5") != NULL, "message: %s", mlp_last_error_message());
    params(t, net, after);
    CHECK(memcmp(before, after, sizeof before) == 0, "a refused update changed the weights");
    rows[H + 1] = 0.1f;
    CHECK(mlp_trainer_apply_gradient(t) == MLP_ERR_INVALID_ARGUMENT, "a sparse trainer cannot apply a dense buffer");
    CHECK_OK(mlp_trainer_apply_sparse_gradient(t, fine, rows, 2));
    CHECK_OK(mlp_trainer_apply_sparse_gradient(t, NULL, NULL, 0)); /* a batch that touched no column */
    const int32_t *cols;
    float *grad;
    int64_t count;
    CHECK(mlp_trainer_sparse_gradient(t, NULL, &grad, &count) == MLP_ERR_INVALID_ARGUMENT, "NULL columns");
    mlp_trainer_destroy(t);
    c.sparse_input = 0;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    CHECK(mlp_trainer_sparse_gradient(t, &cols, &grad, &count) == MLP_ERR_INVALID_ARGUMENT, "a dense trainer");
    CHECK(mlp_trainer_apply_sparse_gradient(t, fine, rows, 2) == MLP_ERR_INVALID_ARGUMENT, "a dense trainer");
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

int main(void)
{
    printf("isa: %s\n", mlp_isa());
    for (int threads = 1; threads <= 2; ++threads)
        for (int opt = MLP_OPT_SGD; opt <= MLP_OPT_ADAM; ++opt)
            for (int scale = 0; scale <= 1; ++scale) test_split_step_equals_the_step(opt, scale, threads);
    test_two_halves_step_like_the_batch();
    test_bad_gradients_are_refused();
    return test_report("test_distributed_sparse");
}
