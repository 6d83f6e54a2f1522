using System;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using MlNetMlp.Interop;

namespace MlNetMlp.Benchmarks
{
    /// <summary>mlp_sgemm through P/Invoke against a managed baseline (row-by-row multiply-add with
    /// System.Numerics.Tensors, which vectorizes with AVX2/AVX-512), on square and MLP shapes.</summary>
    [ShortRunJob]
    [MemoryDiagnoser]
    public unsafe class SgemmBenchmarks
    {
        private float[] _a, _b, _c;

        /// <summary>M x N x K: square, and the MLP forward / weight-gradient shapes at batch 128.</summary>
        [Params("256x256x256", "128x256x784", "784x256x128", "128x10x128")]
        public string Shape { get; set; }

        private int _m, _n, _k;

        [GlobalSetup]
        public void Setup()
        {
            var dims = Array.ConvertAll(Shape.Split('x'), int.Parse);
            (_m, _n, _k) = (dims[0], dims[1], dims[2]);
            var random = new Random(1);
            _a = new float[_m * _k];
            _b = new float[_k * _n];
            _c = new float[_m * _n];
            for (int i = 0; i < _a.Length; i++) _a[i] = (float)random.NextDouble();
            for (int i = 0; i < _b.Length; i++) _b[i] = (float)random.NextDouble();
            Native.EnsureLoaded();
        }

        [Benchmark(Baseline = true, Description = "managed (TensorPrimitives)")]
        public void Managed()
        {
            // C = A·B, row-major: C[i, :] = sum_p A[i, p] * B[p, :]
            var c = _c.AsSpan();
            c.Clear();
            for (int i = 0; i < _m; i++)
            {
                var row = c.Slice(i * _n, _n);
                for (int p = 0; p < _k; p++)
                    TensorPrimitives.MultiplyAdd(_b.AsSpan(p * _n, _n), _a[i * _k + p], row, row);
            }
        }

        [Benchmark(Description = "mlp_sgemm (P/Invoke)")]
        public void Native_()
        {
            fixed (float* a = _a, b = _b, c = _c)
                Native.Check(NativeMethods.mlp_sgemm(0, 0, _m, _n, _k, 1f, a, _k, b, _n, 0f, c, _n));
        }
    }
}
