/* exp, log, log1p and cos(2 pi u) in plain IEEE double arithmetic, for every result that training and scoring
 * depend on (the loss, the output transforms, the generic activations, the initialisation).
 *
 * Why not libm: glibc, the Windows C runtimes and Apple's libm round the last bit of exp/log/cos differently, and one
 * differing bit in a softmax grows over thousands of steps into a visibly different model. These functions use only
 * +, -, *, / and exact scaling (no fused multiply-add: the library builds with -ffp-contract=off), so they return the
 * same bits on every platform. Accuracy, measured against the C library's double functions: within 1 ulp of double
 * (exp), 2 (log) and 3-4 (log1p); the float results derived from them equalled the C library's on every point
 * sampled (tests/native/test_portable_math.c measures both). */
#ifndef MLP_PORTABLE_MATH_H
#define MLP_PORTABLE_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^k for k in [-1022, 1023], built from its bits (exact). */
static inline double mlp_pow2i(int k)
{
    const uint64_t bits = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* e^x: x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite, ln2 in two parts), e^r by its Taylor series to r^13
 * (truncation below 5e-18 relative), then exact scaling by 2^k. */
static inline double mlp_exp(double x)
{
    if (x != x) return x;
    if (x > 709.782712893384) return HUGE_VAL;
    if (x < -745.1332191019412) return 0.0;
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double kd = floor(x * 1.4426950408889634 + 0.5);
    const int k = (int)kd;
    const double r = (x - kd * ln2_hi) - kd * ln2_lo; /* kd * ln2_hi is exact: ln2_hi has 32 significant bits */
    double p = 1.0 / 6227020800.0;                  /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    const double er = 1.0 + (r + r * r * p); /* 1 + r + r^2 (1/2 + r/6 + ...) */
    if (k > 1023)
        return (er * 2.0) * mlp_pow2i(k - 1); /* k = 1024: the result itself is still finite */
    if (k >= -1021)
        return er * mlp_pow2i(k);
    return er * mlp_pow2i(k + 54) * mlp_pow2i(-54); /* subnormal result: one rounding, in the last product */
}

/* log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, by its
 * series to s^23 (truncation below 1e-18), plus e ln2 in two parts. */
static inline double mlp_log(double x)
{
    if (x != x || x < 0.0) return NAN;
    if (x == 0.0) return -HUGE_VAL;
    if (x == HUGE_VAL) return x;
    int e = 0;
    if (x < 2.2250738585072014e-308) { /* subnormal: normalise first (exact) */
        x *= 18014398509481984.0;      /* 2^54 */
        e = -54;
    }
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    e += (int)((bits >> 52) & 0x7FF) - 1023;
    bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull; /* m in [1, 2) */
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) {
        m *= 0.5; /* exact */
        e += 1;
    }
    const double f = m - 1.0; /* exact (Sterbenz) */
    const double s = f / (2.0 + f), s2 = s * s;
    double p = 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    const double log_m = 2.0 * s + 2.0 * s * (s2 * p);
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    return (double)e * ln2_hi + (log_m + (double)e * ln2_lo);
}

/* log(1 + y) for y > -1, accurate also for tiny y: u = 1 + y rounded, then the rounding corrected to first order. */
static inline double mlp_log1p(double y)
{
    const double u = 1.0 + y;
    if (u == 1.0) return y;
    return mlp_log(u) * (y / (u - 1.0));
}

/* cos(2 pi u) for u in [0, 1): reduced by quarter turns in u (exact), then the sine or cosine series of an angle in
 * [-pi/4, pi/4]. */
static inline double mlp_cos_2pi(double u)
{
    const double q = floor(4.0 * u + 0.5);
    const double r = u - 0.25 * q; /* exact: u and q/4 are multiples of 2^-53 within 1/8 of each other */
    const double a = r * 6.283185307179586, a2 = a * a;
    double c = 1.0 / 6402373705728000.0; /* 1/18! */
    c = -c * a2 + 1.0 / 20922789888000.0;
    c = -c * a2 + 1.0 / 87178291200.0;
    c = -c * a2 + 1.0 / 479001600.0;
    c = -c * a2 + 1.0 / 3628800.0;
    c = -c * a2 + 1.0 / 40320.0;
    c = -c * a2 + 1.0 / 720.0;
    c = -c * a2 + 1.0 / 24.0;
    c = -c * a2 + 0.5;
    const double cos_a = 1.0 - a2 * c;
    double s = 1.0 / 121645100408832000.0; /* 1/19! */
    s = -s * a2 + 1.0 / 355687428096000.0;
    s = -s * a2 + 1.0 / 1307674368000.0;
    s = -s * a2 + 1.0 / 6227020800.0;
    s = -s * a2 + 1.0 / 39916800.0;
    s = -s * a2 + 1.0 / 362880.0;
    s = -s * a2 + 1.0 / 5040.0;
    s = -s * a2 + 1.0 / 120.0;
    s = -s * a2 + 1.0 / 6.0;
    const double sin_a = a - a * a2 * s;
    switch (((int)q) & 3) {
    case 0: return cos_a;
    case 1: return -sin_a;
    case 2: return -cos_a;
    default: return sin_a;
    }
}

/* b^n for an integer n >= 0 by repeated squaring (Adam's bias correction; libm's pow rounds differently per platform). */
static inline double mlp_powi(double b, int64_t n)
{
    double result = 1.0;
    while (n > 0) {
        if (n & 1) result *= b;
        b *= b;
        n >>= 1;
    }
    return result;
}

static inline float mlp_expf(float x) { return (float)mlp_exp((double)x); }

/* tanh in double: its odd series near 0 (where 1 - e^(-2|x|) would cancel), else (1 - t) / (1 + t), t = e^(-2|x|). */
static inline float mlp_tanhf(float x)
{
    const double a = fabs((double)x);
    double y;
    if (a < 0.015625) {
        const double a2 = a * a;
        y = a - a * a2 * (1.0 / 3.0 - a2 * (2.0 / 15.0 - a2 * (17.0 / 315.0 - a2 * (62.0 / 2835.0))));
    } else {
        const double t = mlp_exp(-2.0 * a);
        y = (1.0 - t) / (1.0 + t);
    }
    return (float)(x < 0.0f ? -y : y);
}

#endif
