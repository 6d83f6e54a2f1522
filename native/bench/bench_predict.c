/* bench_predict: scoring latency of one row and throughput of batches through mlp_network_predict.
 * usage: bench_predict [--hidden 256,128] [--rows N] [--threads N] [--bf16] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mlnetmlp.h"

int main(int argc, char **argv)
{
    int32_t sizes[16] = {784, 256, 128, 10};
    int layers = 3, batch = 256, threads = 0, bf16 = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--hidden") && i + 1 < argc) {
            int h = 0;
            for (char *t = strtok(argv[++i], ","); t && h < 14; t = strtok(NULL, ",")) sizes[1 + h++] = atoi(t);
            sizes[h + 1] = 10;
            layers = h + 1;
        } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bf16")) bf16 = 1;
        else {
            fprintf(stderr, "usage: bench_predict [--hidden 256,128] [--rows N] [--threads N] [--bf16]\n");
            return 2;
        }
    }
    mlp_network *net;
    if (mlp_network_create(layers, sizes, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CROSS_ENTROPY, &net) != 0 || mlp_network_init(net, 1) != 0) {
        fprintf(stderr, "%s\n", mlp_last_error_message());
        return 1;
    }
    if (bf16 && mlp_network_set_scoring_precision(net, MLP_PRECISION_BFLOAT16) != 0) {
        fprintf(stderr, "--bf16: %s\n", mlp_last_error_message());
        return 1;
    }
    const int rows = 10000;
    float *x = malloc(sizeof(float) * (size_t)rows * 784), *out = malloc(sizeof(float) * (size_t)rows * 10);
    for (size_t i = 0; i < (size_t)rows * 784; ++i) x[i] = (float)(i % 251) / 251.0f;
    int64_t ws_count;
    mlp_network_workspace_size(net, batch, &ws_count);
    float *ws = malloc(sizeof(float) * (size_t)ws_count);

    printf("# MLP");
    for (int l = 0; l <= layers; ++l) printf("%s%d", l ? "-" : " ", sizes[l]);
    printf(", isa %s%s\n", mlp_isa(), bf16 ? ", bfloat16 scoring weights" : "");
    double times[15];
    for (int r = 0; r < 15; ++r) { /* one row at a time over the 10,000 rows */
        double t0 = bench_now();
        for (int i = 0; i < rows; ++i) mlp_network_predict(net, x + (size_t)i * 784, 784, 1, MLP_OUTPUT_PROBABILITY, out, 10, ws, ws_count, threads);
        times[r] = (bench_now() - t0) / rows;
    }
    const double one_row = bench_median(times, 15);
    printf("one row:        median %.2f us per row (%.0f rows/s)\n", one_row * 1e6, 1.0 / one_row);
    for (int r = 0; r < 15; ++r) {
        double t0 = bench_now();
        for (int i = 0; i + batch <= rows; i += batch)
            mlp_network_predict(net, x + (size_t)i * 784, 784, batch, MLP_OUTPUT_PROBABILITY, out + (size_t)i * 10, 10, ws, ws_count, threads);
        times[r] = (bench_now() - t0) / (rows / batch * batch);
    }
    const double batched = bench_median(times, 15);
    printf("batches of %d: median %.2f us per row (%.0f rows/s)\n", batch, batched * 1e6, 1.0 / batched);
    mlp_network_destroy(net);
    free(x), free(out), free(ws);
    return 0;
}
