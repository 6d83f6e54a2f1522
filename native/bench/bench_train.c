/* bench_train: native time of training epochs of an MLP on synthetic Fashion-MNIST-sized data
 * (60,000 x 784, 10 classes), the arithmetic of one epoch without any managed overhead.
 * usage: bench_train [--threads N] [--batch B] [--epochs E] [--hidden 256,128] [--bf16] [--input-scale] [--selu]
 *                    [--shuffle]
 * (--input-scale --selu --hidden 128,128,128: one member of the trainer's default ensemble; --shuffle: a uniformly
 * random row order instead of the strided one) */
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
            return 1;                                                                       \
        }                                                                                   \
    } while (0)

int main(int argc, char **argv)
{
    int precision = MLP_PRECISION_FLOAT32, threads = 0, batch = 128, epochs = 3, rows = 60000, inputs = 784, classes = 10;
    int input_scale = 0, activation = MLP_ACT_RELU, shuffle = 0;
    int32_t sizes[16] = {0};
    int hidden_count = 2;
    sizes[1] = 256, sizes[2] = 128;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bf16")) precision = MLP_PRECISION_BFLOAT16;
        else if (!strcmp(argv[i], "--input-scale")) input_scale = 1;
        else if (!strcmp(argv[i], "--selu")) activation = MLP_ACT_SELU;
        else if (!strcmp(argv[i], "--shuffle")) shuffle = 1;
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hidden") && i + 1 < argc) {
            hidden_count = 0;
            for (char *t = strtok(argv[++i], ","); t && hidden_count < 14; t = strtok(NULL, ",")) sizes[1 + hidden_count++] = atoi(t);
        } else {
            fprintf(stderr, "usage: bench_train [--threads N] [--batch B] [--epochs E] [--hidden 256,128] [--bf16] "
                            "[--input-scale] [--selu] [--shuffle]\n");
            return 2;
        }
    }
    sizes[0] = inputs;
    sizes[hidden_count + 1] = classes;
    float *x = malloc(sizeof(float) * (size_t)rows * inputs);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)rows), *order = malloc(sizeof(int32_t) * (size_t)rows);
    uint64_t seed = 1;
    for (size_t i = 0; i < (size_t)rows * inputs; ++i) x[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / (1 << 24);
    for (int i = 0; i < rows; ++i) y[i] = i % classes, order[i] = (int32_t)((i * 7919L) % rows);
    if (shuffle) /* a uniformly random order, as the trainers shuffle (Fisher-Yates) */
        for (int i = rows - 1; i > 0; --i) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            const int j = (int)((seed >> 33) % (uint64_t)(i + 1));
            const int32_t tmp = order[i];
            order[i] = order[j], order[j] = tmp;
        }

    mlp_network *net;
    CHECK_STATUS(mlp_network_create(hidden_count + 1, sizes, activation, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net));
    CHECK_STATUS(mlp_network_init(net, 1));
    mlp_train_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = (int32_t)sizeof c;
    c.optimizer = MLP_OPT_ADAM;
    c.learning_rate = 1e-3f, c.beta1 = 0.9f, c.beta2 = 0.999f, c.epsilon = 1e-8f;
    c.max_batch_rows = batch;
    c.num_threads = threads;
    c.precision = precision;
    c.input_scale = input_scale;
    c.input_scale_rate = 1e-3f;
    mlp_trainer *t;
    CHECK_STATUS(mlp_trainer_create(net, &c, &t));

    double flops_per_row = 0;
    for (int l = 0; l <= hidden_count; ++l) flops_per_row += 2.0 * 2 * sizes[l] * sizes[l + 1]; /* forward + dW */
    for (int l = 1; l <= hidden_count; ++l) flops_per_row += 2.0 * sizes[l] * sizes[l + 1];     /* dX (not for the input) */
    printf("# MLP");
    for (int l = 0; l <= hidden_count + 1; ++l) printf("%s%d", l ? "-" : " ", sizes[l]);
    printf(", batch %d, %d rows, %d threads, isa %s: %.1f GFLOP per epoch\n", batch, rows, threads ? threads : mlp_get_num_threads(),
           mlp_isa(), flops_per_row * rows * 1e-9);
    /* The machine is shared: besides each epoch's wall time, the median step times the number of steps,
     * which a few preempted steps do not move. */
    const int steps = (rows + batch - 1) / batch;
    double *step_seconds = malloc(sizeof(double) * (size_t)steps);
    for (int e = 0; e < epochs; ++e) {
        double loss_sum = 0, loss, t0 = bench_now();
        for (int start = 0, s = 0; start < rows; start += batch, ++s) {
            const int n = rows - start < batch ? rows - start : batch;
            const double s0 = bench_now();
            CHECK_STATUS(mlp_trainer_step(t, x, inputs, rows, order + start, n, y, NULL, NULL, 1, &loss));
            step_seconds[s] = bench_now() - s0;
            loss_sum += loss * n;
        }
        const double seconds = bench_now() - t0, typical = bench_median(step_seconds, steps) * steps;
        printf("epoch %d: %.3f s, %.1f GFLOP/s, loss %.4f; median step x %d steps: %.3f s\n", e + 1, seconds,
               flops_per_row * rows * 1e-9 / seconds, loss_sum / rows, steps, typical);
    }
    free(step_seconds);
    mlp_trainer_destroy(t);
    mlp_network_destroy(net);
    free(x), free(y), free(order);
    return 0;
}
