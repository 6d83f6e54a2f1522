/* Checkpoints: a trainer restored from mlp_trainer_get_state (with the network's weights) continues exactly as the
 * original does (Adam and SGD with momentum, dropout, the input scale, a sparse first layer with lazy weight decay);
 * mlp_trainer_set_state refuses what is not a state of this trainer and changes nothing then. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

enum { IN = 7, H = 5, OUT = 3, ROWS = 12, FIRST = 4, MORE = 5 };
static const int32_t sizes[3] = {IN, H, OUT};
enum { NP = IN * H + H + H * OUT + OUT };

typedef struct data {
    float x[ROWS * IN];
    int32_t labels[ROWS];
    int64_t offsets[ROWS + 1];
    int32_t columns[ROWS * IN];
    float values[ROWS * IN];
    mlp_csr csr;
} data;

/* Dense rows with about half the entries zero, and the same rows as CSR. */
static void make_data(data *d)
{
    uint64_t seed = 5;
    int64_t nnz = 0;
    for (int r = 0; r < ROWS; ++r) {
        d->offsets[r] = nnz;
        for (int c = 0; c < IN; ++c) {
            const float u = test_uniform(&seed);
            d->x[r * IN + c] = u > 0.0f ? 2.0f * u : 0.0f;
            if (u > 0.0f) d->columns[nnz] = c, d->values[nnz++] = 2.0f * u;
        }
        d->labels[r] = (r * 5) % OUT;
    }
    d->offsets[ROWS] = nnz;
    const mlp_csr csr = {ROWS, IN, d->offsets, d->columns, d->values};
    d->csr = csr;
}

static mlp_train_config config(int optimizer, int input_scale, int sparse)
{
    mlp_train_config c = test_train_config(optimizer, 0.05f, ROWS, 1);
    c.momentum = optimizer == MLP_OPT_SGD ? 0.9f : 0.0f;
    c.weight_decay = 2e-2f;
    c.dropout_rate = 0.2f;
    c.seed = 77;
    c.input_scale = input_scale;
    c.input_scale_rate = input_scale ? 0.5f : 0.0f;
    c.sparse_input = sparse;
    return c;
}

/* Every other step a half batch, so that a sparse first layer has rows that miss steps (lazy decay). */
static void steps(mlp_trainer *t, const data *d, int sparse, int first, int count)
{
    static const int32_t half[ROWS / 2] = {0, 2, 4, 6, 8, 10};
    for (int s = first; s < first + count; ++s) {
        double loss;
        const int rows = s % 2 ? ROWS / 2 : ROWS;
        const int32_t *idx = s % 2 ? half : NULL;
        if (sparse)
            CHECK_OK(mlp_trainer_step_csr(t, &d->csr, idx, rows, d->labels, NULL, NULL, 1, &loss));
        else
            CHECK_OK(mlp_trainer_step(t, d->x, IN, ROWS, idx, rows, d->labels, NULL, NULL, 1, &loss));
    }
}

static void test_resumes_exactly(int optimizer, int input_scale, int sparse)
{
    data d;
    make_data(&d);
    const mlp_train_config c = config(optimizer, input_scale, sparse);
    mlp_network *a = NULL, *b = NULL;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &a));
    CHECK_OK(mlp_network_init(a, 9));
    mlp_trainer *ta = NULL, *tb = NULL;
    CHECK_OK(mlp_trainer_create(a, &c, &ta));
    steps(ta, &d, sparse, 0, FIRST);

    /* the checkpoint: the weights as they are (lazy rows not caught up) and the state */
    float saved[NP];
    test_get_params(a, 2, sizes, saved);
    int64_t bytes = 0;
    CHECK_OK(mlp_trainer_state_size(ta, &bytes));
    unsigned char *state = malloc((size_t)bytes);
    CHECK_OK(mlp_trainer_get_state(ta, state, bytes));

    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &b));
    test_set_params(b, 2, sizes, saved);
    CHECK_OK(mlp_trainer_create(b, &c, &tb));
    CHECK_OK(mlp_trainer_set_state(tb, state, bytes));

    steps(ta, &d, sparse, FIRST, MORE);
    steps(tb, &d, sparse, FIRST, MORE);
    CHECK_OK(mlp_trainer_sync(ta));
    CHECK_OK(mlp_trainer_sync(tb));
    float pa[NP], pb[NP];
    test_get_params(a, 2, sizes, pa);
    test_get_params(b, 2, sizes, pb);
    CHECK(memcmp(pa, pb, sizeof pa) == 0, "optimizer %d, input scale %d, sparse %d: the resumed trainer differs",
          optimizer, input_scale, sparse);

    /* without the state the continuation differs (the state is what carries it) */
    mlp_network *fresh = NULL;
    mlp_trainer *tf = NULL;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &fresh));
    test_set_params(fresh, 2, sizes, saved);
    CHECK_OK(mlp_trainer_create(fresh, &c, &tf));
    steps(tf, &d, sparse, FIRST, MORE);
    CHECK_OK(mlp_trainer_sync(tf));
    float pf[NP];
    test_get_params(fresh, 2, sizes, pf);
    CHECK(memcmp(pa, pf, sizeof pa) != 0, "a fresh trainer continued identically: the state carried nothing");

    free(state);
    mlp_trainer_destroy(tf);
    mlp_network_destroy(fresh);
    mlp_trainer_destroy(ta);
    mlp_trainer_destroy(tb);
    mlp_network_destroy(a);
    mlp_network_destroy(b);
}

static void test_refuses_foreign_states(void)
{
    data d;
    make_data(&d);
    mlp_network *net = NULL;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 1));
    const mlp_train_config adam = config(MLP_OPT_ADAM, 0, 0), sgd = config(MLP_OPT_SGD, 0, 0);
    mlp_trainer *t = NULL, *other = NULL;
    CHECK_OK(mlp_trainer_create(net, &adam, &t));
    CHECK_OK(mlp_trainer_create(net, &sgd, &other));
    steps(t, &d, 0, 0, 2);
    int64_t bytes = 0, other_bytes = 0;
    CHECK_OK(mlp_trainer_state_size(t, &bytes));
    CHECK_OK(mlp_trainer_state_size(other, &other_bytes));
    CHECK(bytes > other_bytes, "Adam's state (%lld bytes) holds two moments, SGD's (%lld) one", (long long)bytes,
          (long long)other_bytes);
    unsigned char *state = malloc((size_t)bytes), *before = malloc((size_t)bytes), *after = malloc((size_t)bytes);
    CHECK_OK(mlp_trainer_get_state(t, state, bytes));
    memcpy(before, state, (size_t)bytes);

    CHECK(mlp_trainer_get_state(t, state, bytes - 1) == MLP_ERR_INVALID_ARGUMENT, "short buffer");
    CHECK(mlp_trainer_get_state(t, NULL, bytes) == MLP_ERR_INVALID_ARGUMENT, "null buffer");
    CHECK(mlp_trainer_state_size(t, NULL) == MLP_ERR_INVALID_ARGUMENT, "null size");
    CHECK(mlp_trainer_set_state(t, state, bytes - 4) == MLP_ERR_INVALID_ARGUMENT, "truncated state");
    CHECK(mlp_trainer_set_state(t, state, 8) == MLP_ERR_INVALID_ARGUMENT, "shorter than the header");
    CHECK(mlp_trainer_set_state(other, state, bytes) == MLP_ERR_INVALID_ARGUMENT, "Adam's state into an SGD trainer");
    state[0] ^= 1;
    CHECK(mlp_trainer_set_state(t, state, bytes) == MLP_ERR_INVALID_ARGUMENT, "bad magic");
    state[0] ^= 1;
    /* a NaN in the last moment: refused, and the trainer keeps its state */
    const float nan = NAN;
    memcpy(state + bytes - sizeof nan, &nan, sizeof nan);
    CHECK(mlp_trainer_set_state(t, state, bytes) == MLP_ERR_INVALID_ARGUMENT, "NaN moment");
    const float negative = -1.0f;
    memcpy(state + bytes - sizeof negative, &negative, sizeof negative);
    CHECK(mlp_trainer_set_state(t, state, bytes) == MLP_ERR_INVALID_ARGUMENT, "negative second moment");
    CHECK_OK(mlp_trainer_get_state(t, after, bytes));
    CHECK(memcmp(before, after, (size_t)bytes) == 0, "a refused state changed the trainer");
    CHECK_OK(mlp_trainer_set_state(t, before, bytes));

    free(state);
    free(before);
    free(after);
    mlp_trainer_destroy(t);
    mlp_trainer_destroy(other);
    mlp_network_destroy(net);
}

/* A diverged trainer (a finite but huge gradient overflows Adam's second moment) gives no state: what get_state
 * writes is always accepted back by set_state. */
static void test_diverged_state_refused(void)
{
    mlp_network *net = NULL;
    CHECK_OK(mlp_network_create(2, sizes, MLP_ACT_TANH, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 1));
    const mlp_train_config adam = config(MLP_OPT_ADAM, 0, 0);
    mlp_trainer *t = NULL;
    CHECK_OK(mlp_trainer_create(net, &adam, &t));
    float *grad;
    int64_t count, bytes;
    CHECK_OK(mlp_trainer_gradient_buffer(t, &grad, &count));
    memset(grad, 0, sizeof(float) * (size_t)count);
    grad[3] = 3e38f; /* finite: the update takes it, and v = (1 - beta2) g^2 overflows */
    CHECK_OK(mlp_trainer_apply_gradient(t));
    CHECK_OK(mlp_trainer_state_size(t, &bytes));
    unsigned char *state = malloc((size_t)bytes);
    CHECK(mlp_trainer_get_state(t, state, bytes) == MLP_ERR_NOT_FINITE, "a diverged trainer's state was given out");
    CHECK(strstr(mlp_last_error_message(), "diverged") != NULL, "message: %s", mlp_last_error_message());
    free(state);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
}

int main(void)
{
    for (int opt = MLP_OPT_SGD; opt <= MLP_OPT_ADAM; ++opt)
        for (int scale = 0; scale <= 1; ++scale)
            for (int sparse = 0; sparse <= 1; ++sparse) test_resumes_exactly(opt, scale, sparse);
    test_refuses_foreign_states();
    test_diverged_state_refused();
    return test_report("test_trainer_state");
}
