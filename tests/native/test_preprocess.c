/* Input preprocessing against a double-precision reference: imputation of non-finite values, missing indicators,
 * robust scaling and the smooth clip; in place vs out of place; argument checks. */
#include <float.h>

#include "mlnetmlp.h"
#include "test_util.h"

static double clip_ref(double z)
{
    if (z > 1e18) z = 1e18;
    if (z < -1e18) z = -1e18;
    return z / sqrt(1.0 + (z / 3.0) * (z / 3.0));
}

static mlp_preprocess_spec make_spec(int inputs, const float *fill, const float *center, const float *scale, int clip,
                                     int indicators, const int32_t *columns)
{
    mlp_preprocess_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = (int32_t)sizeof s;
    s.inputs = inputs;
    s.fill = fill;
    s.center = center;
    s.scale = scale;
    s.smooth_clip = clip;
    s.indicator_count = indicators;
    s.indicator_columns = columns;
    return s;
}

static void test_against_reference(void)
{
    enum { MAXIN = 37, ROWS = 9 };
    const int sizes[] = {1, 2, 3, 7, 16, 17, 31, 37};
    uint64_t seed = 11;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; ++si)
        for (int clip = 0; clip <= 1; ++clip) {
            const int in = sizes[si];
            float fill[MAXIN], center[MAXIN], scale[MAXIN];
            int32_t cols[MAXIN];
            int k = 0;
            for (int j = 0; j < in; ++j) {
                fill[j] = 5.0f * test_uniform(&seed);
                center[j] = 3.0f * test_uniform(&seed);
                scale[j] = j % 5 == 4 ? 0.0f : 4.0f * test_uniform(&seed); /* a constant column now and then */
                if (j % 3 != 1) cols[k++] = j;
            }
            const mlp_preprocess_spec spec = make_spec(in, fill, center, scale, clip, k, cols);
            mlp_preprocessor *p = NULL;
            CHECK_OK(mlp_preprocessor_create(&spec, &p));
            int32_t si_in = 0, si_out = 0;
            CHECK_OK(mlp_preprocessor_shape(p, &si_in, &si_out));
            CHECK(si_in == in && si_out == in + k, "shape %d -> %d", (int)si_in, (int)si_out);
            const int ldx = in + 2, ldo = in + k + 3;
            float x[ROWS * (MAXIN + 2)], out[ROWS * (2 * MAXIN + 3)], inplace[ROWS * (2 * MAXIN + 3)];
            int64_t expect_missing = 0;
            for (int r = 0; r < ROWS; ++r)
                for (int j = 0; j < ldx; ++j) {
                    float v = 10.0f * test_uniform(&seed);
                    const uint64_t u = test_rng_next(&seed) % 10;
                    if (u == 0) v = NAN;
                    else if (u == 1) v = test_rng_next(&seed) % 2 ? INFINITY : -INFINITY;
                    else if (u == 2) v = 1e30f * v; /* far beyond the clip */
                    x[r * ldx + j] = v;
                    if (j < in && !isfinite(v)) expect_missing++;
                }
            for (int i = 0; i < ROWS * ldo; ++i) out[i] = -7.0f;
            int64_t missing = 3;
            CHECK_OK(mlp_preprocess(p, x, ldx, ROWS, out, ldo, &missing));
            CHECK(missing == 3 + expect_missing, "missing %lld, expected %lld", (long long)missing, (long long)(3 + expect_missing));
            for (int r = 0; r < ROWS; ++r) {
                for (int j = 0; j < in; ++j) {
                    const float v = x[r * ldx + j];
                    const double z = ((double)(isfinite(v) ? v : fill[j]) - center[j]) * scale[j];
                    const double ref = clip ? clip_ref(z) : z;
                    const double got = out[r * ldo + j];
                    const double tol = clip ? 1e-6 * (1 + fabs(ref)) : 1e-6 * (1 + fabs(ref));
                    CHECK(fabs(got - ref) <= tol || (isinf(got) && isinf(ref) && (got > 0) == (ref > 0)),
                          "in %d clip %d row %d col %d: %g -> %.9g, reference %.9g", in, clip, r, j, v, got, ref);
                    if (clip) CHECK(fabs(got) <= 3.0, "clipped value %g outside [-3, 3]", got);
                }
                for (int i = 0; i < k; ++i)
                    CHECK(out[r * ldo + in + i] == (isfinite(x[r * ldx + cols[i]]) ? 0.0f : 1.0f), "indicator %d of row %d", i, r);
                for (int j = in + k; j < ldo; ++j) CHECK(out[r * ldo + j] == -7.0f, "padding written");
            }
            /* in place, rows widened from ldx to ldo: bit for bit the same */
            for (int r = 0; r < ROWS; ++r) memcpy(inplace + r * ldx, x + r * ldx, (size_t)ldx * sizeof(float));
            CHECK_OK(mlp_preprocess(p, inplace, ldx, ROWS, inplace, ldo, NULL));
            for (int r = 0; r < ROWS; ++r)
                CHECK(memcmp(inplace + r * ldo, out + r * ldo, (size_t)(in + k) * sizeof(float)) == 0, "in-place row %d differs", r);
            mlp_preprocessor_destroy(p);
        }
}

static void test_arguments(void)
{
    const float fill[3] = {0, 1, 2}, ones[3] = {1, 1, 1}, bad[3] = {0, NAN, 0};
    const int32_t cols[3] = {0, 2, 1}, out_of_range[1] = {3};
    mlp_preprocessor *p = (mlp_preprocessor *)&p;
    mlp_preprocess_spec s = make_spec(3, fill, NULL, ones, 1, 2, cols);
    s.struct_size = 4;
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT && p == NULL, "struct size");
    CHECK(strstr(mlp_last_error_message(), "struct_size") != NULL, "message: %s", mlp_last_error_message());
    s = make_spec(0, fill, NULL, NULL, 0, 0, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "zero inputs");
    s = make_spec(3, NULL, NULL, NULL, 0, 0, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "NULL fill");
    s = make_spec(3, bad, NULL, NULL, 0, 0, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "NaN fill");
    s = make_spec(3, fill, bad, NULL, 0, 0, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "NaN center");
    s = make_spec(3, fill, NULL, bad, 0, 0, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "NaN scale");
    s = make_spec(3, fill, NULL, NULL, 2, 0, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "smooth_clip 2");
    s = make_spec(3, fill, NULL, NULL, 0, 3, cols);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "unsorted indicator columns");
    s = make_spec(3, fill, NULL, NULL, 0, 1, out_of_range);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "indicator column out of range");
    s = make_spec(3, fill, NULL, NULL, 0, 4, cols);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "more indicators than inputs");
    s = make_spec(3, fill, NULL, NULL, 0, 1, NULL);
    CHECK(mlp_preprocessor_create(&s, &p) == MLP_ERR_INVALID_ARGUMENT, "NULL indicator columns");

    s = make_spec(3, fill, NULL, ones, 1, 2, cols);
    CHECK_OK(mlp_preprocessor_create(&s, &p));
    float x[20] = {0}, out[40];
    CHECK(mlp_preprocess(p, x, 2, 1, out, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "ldx < inputs");
    CHECK(mlp_preprocess(p, x, 3, 1, out, 4, NULL) == MLP_ERR_INVALID_ARGUMENT, "ldo < outputs");
    CHECK(mlp_preprocess(p, x, 3, -1, out, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "negative rows");
    CHECK(mlp_preprocess(p, NULL, 3, 1, out, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "NULL x");
    CHECK(mlp_preprocess(p, x, 3, 1, NULL, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(mlp_preprocess(p, x, 6, 2, x, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "in place with ldo < ldx");
    CHECK(mlp_preprocess(p, x, 3, 2, x + 1, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "overlapping buffers");
    CHECK(mlp_preprocess(p, x, 3, (int64_t)1 << 62, out, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "extent overflow");
    CHECK_OK(mlp_preprocess(p, NULL, 3, 0, NULL, 5, NULL)); /* no rows: nothing is read */
    CHECK(mlp_preprocess(NULL, x, 3, 1, out, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "NULL preprocessor");
    int32_t a, b;
    CHECK(mlp_preprocessor_shape(NULL, &a, &b) == MLP_ERR_INVALID_ARGUMENT, "shape of NULL");
    mlp_preprocessor_destroy(p);
    CHECK_OK(mlp_preprocessor_destroy(NULL));
}

/* Sparse rows: the nonzeros transform exactly as the dense path transforms them; a preprocessor that moves zero (a
 * centre, a fill, indicators) is refused. */
static void test_sparse(void)
{
    const float zeros[4] = {0, 0, 0, 0}, scale[4] = {2.0f, 0.5f, 0.0f, 1e6f}, center[4] = {0, 1, 0, 0};
    mlp_preprocess_spec s = make_spec(4, zeros, NULL, scale, 1, 0, NULL);
    mlp_preprocessor *p;
    CHECK_OK(mlp_preprocessor_create(&s, &p));
    int32_t cols[5] = {0, 1, 3, 2, 3};
    float vals[5] = {1.5f, -4.0f, NAN, 7.0f, 2.0f}, dense[4], out[4];
    int64_t missing = 0;
    float copy[5];
    memcpy(copy, vals, sizeof copy);
    CHECK_OK(mlp_preprocess_csr(p, cols, vals, 5, &missing));
    CHECK(missing == 1, "one NaN counted, got %lld", (long long)missing);
    for (int k = 0; k < 5; ++k) {
        for (int j = 0; j < 4; ++j) dense[j] = 0.0f;
        dense[cols[k]] = copy[k];
        CHECK_OK(mlp_preprocess(p, dense, 4, 1, out, 4, NULL));
        CHECK(memcmp(&vals[k], &out[cols[k]], sizeof(float)) == 0, "nonzero %d: %g vs dense %g", k, vals[k], out[cols[k]]);
    }
    CHECK(vals[2] == 0.0f, "a NaN becomes 0 (the fill), got %g", vals[2]);
    int32_t bad = 4;
    CHECK(mlp_preprocess_csr(p, &bad, vals, 1, NULL) == MLP_ERR_INVALID_ARGUMENT, "column out of range");
    CHECK(mlp_preprocess_csr(p, NULL, vals, 1, NULL) == MLP_ERR_INVALID_ARGUMENT, "NULL columns");
    mlp_preprocessor_destroy(p);
    s = make_spec(4, zeros, center, scale, 1, 0, NULL);
    CHECK_OK(mlp_preprocessor_create(&s, &p));
    CHECK(mlp_preprocess_csr(p, cols, vals, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "a centre moves zero");
    CHECK(strstr(mlp_last_error_message(), "densified") != NULL, "message: %s", mlp_last_error_message());
    mlp_preprocessor_destroy(p);
    const int32_t ind[1] = {1};
    s = make_spec(4, zeros, NULL, scale, 0, 1, ind);
    CHECK_OK(mlp_preprocessor_create(&s, &p));
    CHECK(mlp_preprocess_csr(p, cols, vals, 5, NULL) == MLP_ERR_INVALID_ARGUMENT, "indicators add columns");
    mlp_preprocessor_destroy(p);
}

int main(void)
{
    test_against_reference();
    test_sparse();
    test_arguments();
    return test_report("test_preprocess");
}
