using System;
using System.Collections.Generic;
using MlNetMlp.Interop;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>mlp_sgemm through P/Invoke against a double-precision reference (the exhaustive sweep is in the
    /// native CTest suite; this checks the managed boundary on a representative set).</summary>
    public sealed unsafe class SgemmTests
    {
        private const float Sentinel = 12345f;

        private static IEnumerable<TestCaseData> Cases()
        {
            int[] sizes = { 1, 5, 7, 16, 17, 33, 65, 129, 257 };
            int i = 0;
            foreach (int m in sizes)
                foreach (int n in new[] { 1, 10, 17, 64 })
                {
                    int k = sizes[(i++ * 3) % sizes.Length];
                    yield return new TestCaseData(i % 4 / 2, i % 2, m, n, k, i % 3, 1f, 0f, false);
                }
            foreach (var (a, b) in new[] { (1f, 1f), (-0.5f, 2f), (2f, -1.5f), (0f, 0.5f) })
                for (int t = 0; t < 4; t++)
                    yield return new TestCaseData(t / 2, t % 2, 37, 45, 300, 2, a, b, false);
            for (int t = 0; t < 4; t++)
                yield return new TestCaseData(t / 2, t % 2, 50, 70, 90, 1, 1f, 0f, true); // NaN in C, beta = 0
            yield return new TestCaseData(0, 0, 3, 300, 513, 1, 1f, 0f, true); // the few-rows path
        }

        [TestCaseSource(nameof(Cases))]
        public void MatchesReference(int transA, int transB, int m, int n, int k, int pad, float alpha, float beta, bool nanInC)
        {
            var random = new Random(m * 1000 + n * 10 + k);
            int lda = (transA == 1 ? m : k) + pad, ldb = (transB == 1 ? k : n) + pad, ldc = n + pad;
            var a = Random(random, (transA == 1 ? k : m) * lda);
            var b = Random(random, (transB == 1 ? n : k) * ldb);
            var c = new float[m * ldc];
            for (int i = 0; i < c.Length; i++)
                c[i] = i % ldc >= n ? Sentinel : nanInC ? float.NaN : (float)random.NextDouble();
            var c0 = (float[])c.Clone();
            fixed (float* pa = a, pb = b, pc = c)
                Native.Check(NativeMethods.mlp_sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc));
            for (int i = 0; i < m; i++)
                for (int j = 0; j < ldc; j++)
                {
                    float got = c[i * ldc + j];
                    if (j >= n)
                    {
                        Assert.That(got, Is.EqualTo(Sentinel), $"padding of C changed at ({i},{j})");
                        continue;
                    }
                    double sum = 0, magnitude = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double av = transA == 1 ? a[p * lda + i] : a[i * lda + p];
                        double bv = transB == 1 ? b[j * ldb + p] : b[p * ldb + j];
                        sum += av * bv;
                        magnitude += Math.Abs(av * bv);
                    }
                    double expected = alpha * sum + (beta != 0 ? beta * c0[i * ldc + j] : 0);
                    Assert.That(got, Is.EqualTo(expected).Within(1e-5 * (Math.Abs(alpha) * magnitude + Math.Abs(beta) + 1)), $"C({i},{j})");
                }
        }

        [Test]
        public void BadArgumentsAreRejectedNotCrashes()
        {
            var buffer = new float[16];
            fixed (float* p = buffer)
            {
                Assert.That(NativeMethods.mlp_sgemm(0, 0, -1, 2, 2, 1, p, 2, p, 2, 0, p, 2), Is.EqualTo(NativeMethods.StatusInvalidArgument));
                Assert.That(NativeMethods.mlp_sgemm(0, 0, 2, 2, 2, 1, null, 2, p, 2, 0, p, 2), Is.EqualTo(NativeMethods.StatusInvalidArgument));
                Assert.That(Native.LastError, Does.Contain("A must not be NULL"));
                Assert.That(NativeMethods.mlp_sgemm(0, 1, 2, 3, 4, 1, p, 4, p, 3, 0, p, 3), Is.EqualTo(NativeMethods.StatusInvalidArgument));
                Assert.That(NativeMethods.mlp_sgemm(0, 0, 2, 3, 4, 1, p, 4, p, 3, 0, p, 2), Is.EqualTo(NativeMethods.StatusInvalidArgument));
                Assert.That(NativeMethods.mlp_sgemm(0, 0, 1L << 62, 3, 4, 1, p, 4, p, 3, 0, p, 3), Is.EqualTo(NativeMethods.StatusInvalidArgument));
                Assert.That(NativeMethods.mlp_sgemm(0, 0, 0, 5, 5, 1, null, 5, p, 5, 0, null, 5), Is.EqualTo(NativeMethods.StatusOk));
            }
        }

        private static float[] Random(Random random, int count)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++)
                values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }
    }
}
