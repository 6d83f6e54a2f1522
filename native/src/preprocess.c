/* Input preprocessing: imputation, missing indicators, robust scaling and smooth clipping of raw rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "memory.h"
#include "mlnetmlp.h"

#define MLP_MAX_PREPROCESS_INPUTS (1 << 24)
/* Clamp before squashing so that (z/3)^2 cannot overflow (the squash is 3 - 4.5e-36 there). */
#define MLP_SMOOTH_CLIP_LIMIT 1e18f

struct mlp_preprocessor {
    int32_t inputs, indicator_count, smooth_clip;
    int32_t keeps_zeros; /* every centre and fill 0, no indicators: sparse rows stay sparse */
    float *fill, *center, *scale; /* [inputs] each */
    int32_t *indicator_columns;   /* [indicator_count] */
};

MLP_API int32_t mlp_preprocessor_destroy(mlp_preprocessor *p)
{
    mlp_clear_error();
    if (p) {
        free(p->fill);
        free(p->center);
        free(p->scale);
        free(p->indicator_columns);
        free(p);
    }
    return MLP_OK;
}

static int32_t check_finite(const char *name, const float *v, int32_t n)
{
    for (int32_t j = 0; j < n; ++j)
        MLP_CHECK(isfinite(v[j]), "%s[%d] is not finite", name, (int)j);
    return MLP_OK;
}

static int32_t check_spec(const mlp_preprocess_spec *s)
{
    MLP_CHECK(s->struct_size == (int32_t)sizeof(mlp_preprocess_spec),
              "mlp_preprocess_spec.struct_size is %d but this library expects %d (mismatched header/library)",
              (int)s->struct_size, (int)sizeof(mlp_preprocess_spec));
    MLP_CHECK(s->inputs >= 1 && s->inputs <= MLP_MAX_PREPROCESS_INPUTS, "inputs must be in [1, %d], got %d",
              MLP_MAX_PREPROCESS_INPUTS, (int)s->inputs);
    MLP_CHECK(s->smooth_clip == 0 || s->smooth_clip == 1, "smooth_clip must be 0 or 1, got %d", (int)s->smooth_clip);
    MLP_CHECK(s->indicator_count >= 0 && s->indicator_count <= s->inputs, "indicator_count must be in [0, %d], got %d",
              (int)s->inputs, (int)s->indicator_count);
    MLP_CHECK(s->fill != NULL, "fill must not be NULL");
    MLP_CHECK(s->indicator_count == 0 || s->indicator_columns != NULL, "indicator_columns must not be NULL");
    int32_t status;
    if ((status = check_finite("fill", s->fill, s->inputs)) != MLP_OK) return status;
    if (s->center && (status = check_finite("center", s->center, s->inputs)) != MLP_OK) return status;
    if (s->scale && (status = check_finite("scale", s->scale, s->inputs)) != MLP_OK) return status;
    for (int32_t i = 0; i < s->indicator_count; ++i) {
        const int32_t c = s->indicator_columns[i];
        MLP_CHECK(c >= 0 && c < s->inputs, "indicator_columns[%d] = %d is outside [0, %d)", (int)i, (int)c,
                  (int)s->inputs);
        MLP_CHECK(i == 0 || c > s->indicator_columns[i - 1], "indicator_columns must be strictly ascending (entry %d)",
                  (int)i);
    }
    return MLP_OK;
}

static float *copy_or_fill(const float *src, int32_t n, float value)
{
    float *dst = malloc((size_t)n * sizeof(float));
    if (dst)
        for (int32_t j = 0; j < n; ++j) dst[j] = src ? src[j] : value;
    return dst;
}

MLP_API int32_t mlp_preprocessor_create(const mlp_preprocess_spec *spec, mlp_preprocessor **out)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(out);
    *out = NULL;
    MLP_CHECK_NOT_NULL(spec);
    int32_t status = check_spec(spec);
    if (status != MLP_OK) return status;
    mlp_preprocessor *p = calloc(1, sizeof *p);
    if (!p) return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating a preprocessor");
    p->inputs = spec->inputs;
    p->indicator_count = spec->indicator_count;
    p->smooth_clip = spec->smooth_clip;
    p->fill = copy_or_fill(spec->fill, spec->inputs, 0.0f);
    p->center = copy_or_fill(spec->center, spec->inputs, 0.0f);
    p->scale = copy_or_fill(spec->scale, spec->inputs, 1.0f);
    p->indicator_columns = malloc((size_t)(spec->indicator_count > 0 ? spec->indicator_count : 1) * sizeof(int32_t));
    if (!p->fill || !p->center || !p->scale || !p->indicator_columns) {
        mlp_preprocessor_destroy(p);
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating a preprocessor of %d inputs", (int)spec->inputs);
    }
    if (spec->indicator_count > 0)
        memcpy(p->indicator_columns, spec->indicator_columns, (size_t)spec->indicator_count * sizeof(int32_t));
    p->keeps_zeros = p->indicator_count == 0;
    for (int32_t j = 0; j < p->inputs && p->keeps_zeros; ++j)
        p->keeps_zeros = p->center[j] == 0.0f && p->fill[j] == 0.0f;
    *out = p;
    return MLP_OK;
}

MLP_API int32_t mlp_preprocessor_shape(const mlp_preprocessor *p, int32_t *inputs, int32_t *outputs)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(p);
    MLP_CHECK_NOT_NULL(inputs);
    MLP_CHECK_NOT_NULL(outputs);
    *inputs = p->inputs;
    *outputs = p->inputs + p->indicator_count;
    return MLP_OK;
}

/* z / sqrt(1 + (z/3)^2) after clamping to +-MLP_SMOOTH_CLIP_LIMIT: the same operations, in the same order, as
 * the ONNX export, so both round alike. */
static inline float smooth_clip(float z)
{
    z = z > MLP_SMOOTH_CLIP_LIMIT ? MLP_SMOOTH_CLIP_LIMIT : z < -MLP_SMOOTH_CLIP_LIMIT ? -MLP_SMOOTH_CLIP_LIMIT : z;
    const float t = z * (1.0f / 3.0f);
    return z / sqrtf(1.0f + t * t);
}

/* One row; src and dst do not overlap. Returns the number of missing values. */
static int64_t preprocess_row(const mlp_preprocessor *p, const float *src, float *dst)
{
    int64_t missing = 0;
    for (int32_t i = 0; i < p->indicator_count; ++i)
        dst[p->inputs + i] = isfinite(src[p->indicator_columns[i]]) ? 0.0f : 1.0f;
    for (int32_t j = 0; j < p->inputs; ++j) {
        float v = src[j];
        if (!isfinite(v)) {
            v = p->fill[j];
            missing++;
        }
        const float z = (v - p->center[j]) * p->scale[j];
        dst[j] = p->smooth_clip ? smooth_clip(z) : z;
    }
    return missing;
}

MLP_API int32_t mlp_preprocess_csr(const mlp_preprocessor *p, const int32_t *columns, float *values, int64_t count,
                                   int64_t *missing_count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(p);
    MLP_CHECK(count >= 0, "count must not be negative, got %lld", (long long)count);
    MLP_CHECK(p->indicator_count == 0, "this preprocessor adds missing indicators: sparse rows must be densified first");
    MLP_CHECK(p->keeps_zeros, "this preprocessor does not keep zeros zero (a centre or fill is not 0): sparse rows must be densified first");
    if (count == 0)
        return MLP_OK;
    MLP_CHECK_NOT_NULL(columns);
    MLP_CHECK_NOT_NULL(values);
    for (int64_t k = 0; k < count; ++k)
        MLP_CHECK(columns[k] >= 0 && columns[k] < p->inputs, "column %d of nonzero %lld is outside [0, %d)",
                  (int)columns[k], (long long)k, (int)p->inputs);
    int64_t missing = 0;
    for (int64_t k = 0; k < count; ++k) {
        const int32_t j = columns[k];
        float v = values[k];
        if (!isfinite(v)) {
            v = 0.0f; /* fill */
            missing++;
        }
        const float z = v * p->scale[j];
        values[k] = p->smooth_clip ? smooth_clip(z) : z;
    }
    if (missing_count)
        *missing_count += missing;
    return MLP_OK;
}

MLP_API int32_t mlp_preprocess(const mlp_preprocessor *p, const float *x, int64_t ldx, int64_t rows, float *out,
                               int64_t ldo, int64_t *missing_count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(p);
    MLP_CHECK(rows >= 0, "rows must not be negative, got %lld", (long long)rows);
    const int64_t outputs = (int64_t)p->inputs + p->indicator_count;
    MLP_CHECK(ldx >= p->inputs, "ldx is %lld but the preprocessor reads %d columns", (long long)ldx, (int)p->inputs);
    MLP_CHECK(ldo >= outputs, "ldo is %lld but the preprocessor writes %lld columns", (long long)ldo, (long long)outputs);
    int64_t ex, eo;
    MLP_CHECK(mlp_mul_ok(rows, ldx, &ex) && ex <= INT64_MAX / (int64_t)sizeof(float) && mlp_mul_ok(rows, ldo, &eo) &&
                  eo <= INT64_MAX / (int64_t)sizeof(float),
              "%lld rows exceed the address space", (long long)rows);
    if (rows == 0)
        return MLP_OK;
    MLP_CHECK_NOT_NULL(x);
    MLP_CHECK_NOT_NULL(out);
    const int in_place = (const float *)out == x;
    MLP_CHECK(!in_place || ldo >= ldx, "in place, ldo (%lld) must be at least ldx (%lld)", (long long)ldo,
              (long long)ldx);
    if (!in_place) {
        const char *xs = (const char *)x, *xe = (const char *)(x + (rows - 1) * ldx + p->inputs);
        const char *os = (const char *)out, *oe = (const char *)(out + (rows - 1) * ldo + outputs);
        MLP_CHECK(oe <= xs || xe <= os, "x and out overlap (give the same pointer for in-place preprocessing)");
    }
    int64_t missing = 0;
    if (!in_place) {
        for (int64_t r = 0; r < rows; ++r) missing += preprocess_row(p, x + r * ldx, out + r * ldo);
    } else {
        /* Last row first, each through a copy: a wider output row only ever overwrites rows already done. */
        float *row = malloc((size_t)p->inputs * sizeof(float));
        if (!row) return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating a row buffer");
        for (int64_t r = rows - 1; r >= 0; --r) {
            memcpy(row, x + r * ldx, (size_t)p->inputs * sizeof(float));
            missing += preprocess_row(p, row, out + r * ldo);
        }
        free(row);
    }
    if (missing_count)
        *missing_count += missing;
    return MLP_OK;
}
