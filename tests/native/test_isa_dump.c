/* Writes the results of GEMMs (wide, edge and thin tiles, all transposes) and of a few training steps to the
 * file named by argv[1]. CTest runs it under the default kernel set and under MLNETMLP_ISA=avx2 and compares
 * the files byte for byte: the AVX-512 kernels must give exactly the AVX2 results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

static void dump_gemms(FILE *out, uint64_t *seed)
{
    /* the last five: thin B (N <= 12) with every row remainder of 16 the zmm thin kernel masks */
    const int64_t shapes[][3] = {{128, 256, 784}, {784, 256, 128}, {37, 129, 300}, {131, 10, 97}, {9, 64, 33}, {64, 7, 5},
                                 {29, 1, 40}, {17, 12, 19}, {45, 5, 8}, {33, 11, 64}, {250, 9, 130}};
    for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); ++s)
        for (int t = 0; t < 4; ++t) {
            const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            const int ta = t & 1, tb = t >> 1;
            float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
            float *c = malloc(sizeof(float) * (size_t)(m * n));
            for (int64_t i = 0; i < m * k; ++i) a[i] = test_uniform(seed);
            for (int64_t i = 0; i < k * n; ++i) b[i] = test_uniform(seed);
            for (int64_t i = 0; i < m * n; ++i) c[i] = test_uniform(seed);
            CHECK_OK(mlp_sgemm(ta, tb, m, n, k, 0.75f, a, ta ? m : k, b, tb ? k : n, t == 3 ? 0.5f : 0.0f, c, n));
            fwrite(c, sizeof(float), (size_t)(m * n), out);
            free(a), free(b), free(c);
        }
}

static void dump_training(FILE *out, uint64_t *seed, int input_scale)
{
    enum { ROWS = 300, INPUTS = 70, CLASSES = 10 };
    /* the second run: SELU (the vector exp) and widths with 16- and 8-lane remainders */
    const int32_t sizes[] = {INPUTS, input_scale ? 90 : 96, input_scale ? 57 : 64, CLASSES};
    float *x = malloc(sizeof(float) * ROWS * INPUTS);
    int32_t labels[ROWS];
    for (int i = 0; i < ROWS * INPUTS; ++i) x[i] = test_uniform(seed);
    for (int i = 0; i < ROWS; ++i) labels[i] = i % CLASSES;
    mlp_network *net;
    CHECK_OK(mlp_network_create(3, sizes, input_scale ? MLP_ACT_SELU : MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_OK(mlp_network_init(net, 5));
    mlp_train_config c = test_train_config(MLP_OPT_ADAM, 1e-3f, 100, 0);
    c.input_scale = input_scale;
    c.input_scale_rate = 1e-2f;
    mlp_trainer *t;
    CHECK_OK(mlp_trainer_create(net, &c, &t));
    double loss;
    for (int step = 0; step < 6; ++step)
        CHECK_OK(mlp_trainer_step(t, x + (step % 3) * 100 * INPUTS, INPUTS, 100, NULL, 100, labels, NULL, NULL, 1, &loss));
    for (int l = 0; l < 3; ++l) {
        const int64_t wc = (int64_t)sizes[l] * sizes[l + 1];
        float *w = malloc(sizeof(float) * (size_t)wc), b[96];
        CHECK_OK(mlp_network_get_layer(net, l, w, wc, b, sizes[l + 1]));
        fwrite(w, sizeof(float), (size_t)wc, out);
        fwrite(b, sizeof(float), (size_t)sizes[l + 1], out);
        free(w);
    }
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
    free(x);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_isa_dump <output file>\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "wb");
    CHECK(out != NULL, "cannot write %s", argv[1]);
    if (!out) return test_report("test_isa_dump");
    printf("isa: %s\n", mlp_isa());
    uint64_t seed = 2024;
    dump_gemms(out, &seed);
    dump_training(out, &seed, 0);
    dump_training(out, &seed, 1); /* the input scale's row kernels */
    fclose(out);
    return test_report("test_isa_dump");
}
