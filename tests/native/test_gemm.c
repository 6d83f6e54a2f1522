/* mlp_sgemm against a double-precision reference: odd sizes, all transposes, padded leading
 * dimensions, alpha/beta, NaN in C with beta == 0, thread counts 1..3, bad arguments. */
#include <string.h>

#include "mlnetmlp.h"
#include "test_util.h"

#define SENTINEL 12345.0f

static float op(const float *m, int64_t ld, int trans, int64_t i, int64_t j)
{
    return trans ? m[j * ld + i] : m[i * ld + j];
}

/* Runs one case; returns 0 on mismatch. */
static int run_case(int ta, int tb, int64_t m, int64_t n, int64_t k, int64_t pad, float alpha, float beta,
                    int nan_c, uint64_t *seed)
{
    const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    const int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
    float *a = malloc(sizeof(float) * (size_t)(a_rows * lda + 1));
    float *b = malloc(sizeof(float) * (size_t)(b_rows * ldb + 1));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    float *c0 = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    for (int64_t i = 0; i < a_rows * lda; ++i) a[i] = test_uniform(seed);
    for (int64_t i = 0; i < b_rows * ldb; ++i) b[i] = test_uniform(seed);
    for (int64_t i = 0; i < m * ldc; ++i) c[i] = (i % ldc) >= n ? SENTINEL : (nan_c ? NAN : test_uniform(seed));
    memcpy(c0, c, sizeof(float) * (size_t)(m * ldc));
    int ok = 1;
    int32_t st = mlp_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (st != 0) {
        CHECK(0, "mlp_sgemm failed: %s", mlp_last_error_message());
        ok = 0;
    }
    for (int64_t i = 0; ok && i < m; ++i) {
        for (int64_t j = 0; j < ldc; ++j) {
            const float got = c[i * ldc + j];
            if (j >= n) {
                if (got != SENTINEL) {
                    CHECK(0, "padding of C changed at (%lld,%lld)", (long long)i, (long long)j);
                    ok = 0;
                }
                continue;
            }
            double ref = 0.0, mag = 0.0;
            for (int64_t p = 0; p < k; ++p) {
                const double t = (double)op(a, lda, ta, i, p) * op(b, ldb, tb, p, j);
                ref += t;
                mag += fabs(t);
            }
            ref *= alpha;
            if (beta != 0.0f) ref += (double)beta * c0[i * ldc + j];
            const double tol = 1e-5 * (fabs(alpha) * mag + fabs(beta) + 1.0);
            if (!(fabs(got - ref) <= tol)) {
                CHECK(0, "ta=%d tb=%d m=%lld n=%lld k=%lld pad=%lld alpha=%g beta=%g: C(%lld,%lld)=%g, expected %g",
                      ta, tb, (long long)m, (long long)n, (long long)k, (long long)pad, alpha, beta, (long long)i,
                      (long long)j, got, ref);
                ok = 0;
                break;
            }
        }
    }
    free(a);
    free(b);
    free(c);
    free(c0);
    return ok;
}

static void test_sizes(void)
{
    /* odd sizes around the register block (6 x 16) and the cache blocks (KC = 256, MC = 144) */
    static const int64_t sizes[] = {1, 2, 3, 5, 6, 7, 11, 15, 16, 17, 31, 33, 63, 65, 127, 129, 143, 145, 255, 257};
    const int count = (int)(sizeof sizes / sizeof sizes[0]);
    uint64_t seed = 1;
    int cases = 0;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (int im = 0; im < count; im += 2)
                for (int in = 1; in < count; in += 3)
                    for (int ik = 0; ik < count; ik += 4) {
                        const int64_t pad = (im + in) % 3 == 0 ? 0 : 3;
                        run_case(ta, tb, sizes[im], sizes[in], sizes[ik], pad, 1.0f, 0.0f, 0, &seed);
                        ++cases;
                    }
    /* the K block edge (KC = 256) and the M block edge (MC = 144) */
    static const int64_t ks[] = {255, 256, 257, 513};
    for (int t = 0; t < 4; ++t)
        for (int i = 0; i < 4; ++i) run_case(t & 1, t >> 1, 13, 37, ks[i], 1, 1.0f, 0.0f, 0, &seed), ++cases;
    for (int t = 0; t < 4; ++t) run_case(t & 1, t >> 1, 289, 33, 20, 0, 1.0f, 0.0f, 0, &seed), ++cases;
    /* few-row path (m <= 4), the thin MLP shapes, k = 0 */
    for (int64_t m = 1; m <= 5; ++m)
        for (int tb = 0; tb < 2; ++tb) run_case(0, tb, m, 300, 513, 1, 1.0f, 0.0f, 0, &seed), ++cases;
    /* the wide tile reading B in place (N a multiple of 64, B not transposed; padded rows are not 64-byte aligned) */
    static const int64_t wide_n[] = {64, 128, 256};
    for (int i = 0; i < 3; ++i)
        for (int ta = 0; ta < 2; ++ta) {
            run_case(ta, 0, 145, wide_n[i], 785, 1, 1.0f, 0.0f, 0, &seed);
            run_case(ta, 0, 13, wide_n[i], 300, 0, -0.5f, 1.5f, 0, &seed);
            cases += 2;
        }
    run_case(0, 0, 128, 10, 128, 0, 1.0f, 0.0f, 0, &seed);
    run_case(1, 0, 128, 10, 128, 0, 1.0f, 0.0f, 0, &seed);
    run_case(0, 1, 128, 128, 10, 0, 1.0f, 0.0f, 0, &seed);
    run_case(0, 0, 7, 9, 0, 2, 1.0f, 0.5f, 0, &seed);
    run_case(0, 0, 7, 9, 0, 2, 1.0f, 0.0f, 1, &seed);
    cases += 5;
    printf("  %d size/transpose cases\n", cases);
}

static void test_alpha_beta(void)
{
    uint64_t seed = 7;
    const float alphas[] = {1.0f, -0.5f, 2.0f, 0.0f};
    const float betas[] = {0.0f, 1.0f, -1.5f};
    for (int ia = 0; ia < 4; ++ia)
        for (int ib = 0; ib < 3; ++ib)
            for (int t = 0; t < 4; ++t) {
                run_case(t & 1, t >> 1, 37, 45, 300, 2, alphas[ia], betas[ib], 0, &seed);
                run_case(t & 1, t >> 1, 13, 100, 70, 1, alphas[ia], betas[ib], 0, &seed); /* wide tiles too */
            }
    /* beta == 0 never reads C: NaN there must not leak into the result */
    for (int t = 0; t < 4; ++t) run_case(t & 1, t >> 1, 50, 70, 90, 1, 1.0f, 0.0f, 1, &seed);
    run_case(0, 0, 3, 70, 90, 1, 1.0f, 0.0f, 1, &seed);
    run_case(0, 0, 9, 9, 9, 0, 0.0f, 0.0f, 1, &seed);
}

/* Every thread count gives bit-identical results. */
static void test_determinism(void)
{
    uint64_t seed = 99;
    /* {m, n, k, B transposed}: the MLP's forward, weight and input gradients (the last with A read in place and B
     * packed, split by columns), the thin and few-row paths, and threads splitting columns over two NC blocks of
     * different widths */
    const int64_t shapes[][4] = {{128, 256, 784, 0}, {784, 256, 128, 0}, {128, 256, 128, 1}, {128, 10, 128, 0},
                                 {300, 300, 300, 0}, {2, 500, 700, 0}, {30, 4200, 40, 0}};
    for (int s = 0; s < 7; ++s) {
        const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        const int tb = (int)shapes[s][3];
        const int64_t ldb = tb ? k : n;
        float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
        float *c1 = malloc(sizeof(float) * (size_t)(m * n)), *c2 = malloc(sizeof(float) * (size_t)(m * n));
        for (int64_t i = 0; i < m * k; ++i) a[i] = test_uniform(&seed);
        for (int64_t i = 0; i < k * n; ++i) b[i] = test_uniform(&seed);
        CHECK_OK(mlp_set_num_threads(1));
        CHECK_OK(mlp_sgemm(0, tb, m, n, k, 1.0f, a, k, b, ldb, 0.0f, c1, n));
        for (int threads = 2; threads <= 3; ++threads) {
            CHECK_OK(mlp_set_num_threads(threads));
            for (int rep = 0; rep < 8; ++rep) { /* a race between shared buffers would show here */
                CHECK_OK(mlp_sgemm(0, tb, m, n, k, 1.0f, a, k, b, ldb, 0.0f, c2, n));
                CHECK(memcmp(c1, c2, sizeof(float) * (size_t)(m * n)) == 0,
                      "shape %lldx%lldx%lld (B transposed: %d) differs with %d threads (repetition %d)", (long long)m,
                      (long long)n, (long long)k, tb, threads, rep);
            }
        }
        free(a), free(b), free(c1), free(c2);
    }
    CHECK_OK(mlp_set_num_threads(0));
}

static void test_bad_arguments(void)
{
    float a[16] = {0}, b[16] = {0}, c[16] = {0};
    CHECK(mlp_sgemm(2, 0, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2) == MLP_ERR_INVALID_ARGUMENT, "trans_a=2 accepted");
    CHECK(strstr(mlp_last_error_message(), "trans_a") != NULL, "message: %s", mlp_last_error_message());
    CHECK(mlp_sgemm(0, -1, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2) == MLP_ERR_INVALID_ARGUMENT, "trans_b=-1 accepted");
    CHECK(mlp_sgemm(0, 0, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2) == MLP_ERR_INVALID_ARGUMENT, "m=-1 accepted");
    CHECK(mlp_sgemm(0, 0, 2, 2, 2, 1, NULL, 2, b, 2, 0, c, 2) == MLP_ERR_INVALID_ARGUMENT, "A=NULL accepted");
    CHECK(mlp_sgemm(0, 0, 2, 2, 2, 1, a, 2, b, 2, 0, NULL, 2) == MLP_ERR_INVALID_ARGUMENT, "C=NULL accepted");
    CHECK(mlp_sgemm(0, 0, 2, 3, 4, 1, a, 3, b, 3, 0, c, 3) == MLP_ERR_INVALID_ARGUMENT, "lda < k accepted");
    CHECK(strstr(mlp_last_error_message(), "leading dimension of A") != NULL, "message: %s", mlp_last_error_message());
    CHECK(mlp_sgemm(1, 0, 2, 3, 4, 1, a, 1, b, 3, 0, c, 3) == MLP_ERR_INVALID_ARGUMENT, "lda < m (transposed) accepted");
    CHECK(mlp_sgemm(0, 1, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3) == MLP_ERR_INVALID_ARGUMENT, "ldb < k (transposed) accepted");
    CHECK(mlp_sgemm(0, 0, 2, 3, 4, 1, a, 4, b, 3, 0, c, 2) == MLP_ERR_INVALID_ARGUMENT, "ldc < n accepted");
    CHECK(mlp_sgemm(0, 0, (int64_t)1 << 62, 3, 4, 1, a, 4, b, 3, 0, c, 3) == MLP_ERR_INVALID_ARGUMENT,
          "overflowing extent accepted");
    /* empty problems are fine, even with NULL pointers */
    CHECK_OK(mlp_sgemm(0, 0, 0, 5, 5, 1, NULL, 5, b, 5, 0, NULL, 5));
    CHECK_OK(mlp_sgemm(0, 0, 1, 1, 1, 1, a, 1, b, 1, 0, c, 1));
    CHECK(mlp_last_error_message()[0] == '\0', "success left a message: %s", mlp_last_error_message());
    CHECK(mlp_set_num_threads(100000) == MLP_ERR_INVALID_ARGUMENT, "absurd thread count accepted");
}

int main(void)
{
    printf("isa: %s, threads: %d\n", mlp_isa(), mlp_get_num_threads());
    CHECK(mlp_abi_version() == MLP_ABI_VERSION, "abi version %d", mlp_abi_version());
    for (int threads = 1; threads <= 3; ++threads) {
        CHECK_OK(mlp_set_num_threads(threads));
        printf(" threads=%d\n", threads);
        test_sizes();
        test_alpha_beta();
    }
    CHECK_OK(mlp_set_num_threads(0));
    test_determinism();
    test_bad_arguments();
    return test_report("test_gemm");
}
