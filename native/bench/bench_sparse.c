/* bench_sparse: where sparse (CSR) storage starts paying. One network, the same minibatches stored dense and as CSR
 * at densities from 0.5% to 50%; median training-step time of each (Adam) and their ratio, alternated in one process.
 * usage: bench_sparse [--inputs N] [--hidden 256,128] [--threads T] [--steps S] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mlnetmlp.h"

#define CHECK_STATUS(call)                                                                  \
    do {                                                                                    \
        if ((call) != 0) {                                                                  \
            fprintf(stderr, "%s failed: %s\n", #call, mlp_last_error_message());            \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

enum { ROWS = 4096, BATCH = 256, CLASSES = 10 };

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    int inputs = 2048, threads = 0, steps = 40;
    int32_t sizes[8] = {0};
    int hidden = 2;
    sizes[1] = 256, sizes[2] = 128;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--inputs") && i + 1 < argc) inputs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hidden") && i + 1 < argc) {
            hidden = 0;
            for (char *t = strtok(argv[++i], ","); t && hidden < 6; t = strtok(NULL, ",")) sizes[1 + hidden++] = atoi(t);
        } else {
            fprintf(stderr, "usage: bench_sparse [--inputs N] [--hidden 256,128] [--threads T] [--steps S]\n");
            return 2;
        }
    }
    sizes[0] = inputs;
    sizes[hidden + 1] = CLASSES;
    if (threads > 0) CHECK_STATUS(mlp_set_num_threads(threads));
    const double densities[] = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
    float *dense = malloc(sizeof(float) * (size_t)ROWS * inputs);
    int64_t *offsets = malloc(sizeof(int64_t) * (ROWS + 1));
    int32_t *columns = malloc(sizeof(int32_t) * (size_t)ROWS * inputs), labels[ROWS], idx[BATCH];
    float *values = malloc(sizeof(float) * (size_t)ROWS * inputs);
    printf("# isa %s, %d threads; network", mlp_isa(), mlp_get_num_threads());
    for (int l = 0; l <= hidden + 1; ++l) printf("%s%d", l ? "-" : " ", sizes[l]);
    printf("; batch %d, Adam; median of %d steps each\n\n| density | dense step (ms) | CSR step (ms) | CSR / dense |\n|---:|---:|---:|---:|\n", BATCH, steps);
    for (size_t di = 0; di < sizeof densities / sizeof *densities; ++di) {
        uint64_t seed = 7;
        int64_t k = 0;
        memset(dense, 0, sizeof(float) * (size_t)ROWS * inputs);
        for (int r = 0; r < ROWS; ++r) {
            offsets[r] = k;
            for (int c = 0; c < inputs; ++c)
                if ((double)(next(&seed) >> 11) * 0x1.0p-53 < densities[di]) {
                    const float v = (float)((next(&seed) >> 40) % 1000) / 1000.0f + 0.1f;
                    columns[k] = c, values[k] = v, dense[(int64_t)r * inputs + c] = v;
                    ++k;
                }
            labels[r] = r % CLASSES;
        }
        offsets[ROWS] = k;
        const mlp_csr csr = {ROWS, inputs, offsets, columns, values};
        mlp_network *a, *b;
        CHECK_STATUS(mlp_network_create(hidden + 1, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &a));
        CHECK_STATUS(mlp_network_create(hidden + 1, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &b));
        CHECK_STATUS(mlp_network_init(a, 1));
        CHECK_STATUS(mlp_network_init(b, 1));
        mlp_train_config c;
        memset(&c, 0, sizeof c);
        c.struct_size = (int32_t)sizeof c;
        c.optimizer = MLP_OPT_ADAM, c.learning_rate = 1e-3f, c.beta1 = 0.9f, c.beta2 = 0.95f, c.epsilon = 1e-8f;
        c.max_batch_rows = BATCH;
        mlp_trainer *ta, *tb;
        CHECK_STATUS(mlp_trainer_create(a, &c, &ta));
        c.sparse_input = 1;
        CHECK_STATUS(mlp_trainer_create(b, &c, &tb));
        double *td = malloc(sizeof(double) * (size_t)steps), *ts = malloc(sizeof(double) * (size_t)steps), loss;
        for (int s = 0; s < steps; ++s) {
            for (int i = 0; i < BATCH; ++i) idx[i] = (int32_t)(next(&seed) % ROWS);
            double t0 = bench_now();
            CHECK_STATUS(mlp_trainer_step(ta, dense, inputs, ROWS, idx, BATCH, labels, NULL, NULL, 1, &loss));
            double t1 = bench_now();
            CHECK_STATUS(mlp_trainer_step_csr(tb, &csr, idx, BATCH, labels, NULL, NULL, 1, &loss));
            double t2 = bench_now();
            td[s] = t1 - t0, ts[s] = t2 - t1;
        }
        const double md = bench_median(td, steps) * 1e3, ms = bench_median(ts, steps) * 1e3;
        printf("| %.1f%% | %.3f | %.3f | %.2f |\n", densities[di] * 100, md, ms, ms / md);
        free(td), free(ts);
        mlp_trainer_destroy(ta), mlp_trainer_destroy(tb);
        mlp_network_destroy(a), mlp_network_destroy(b);
    }
    free(dense), free(offsets), free(columns), free(values);
    return 0;
}
