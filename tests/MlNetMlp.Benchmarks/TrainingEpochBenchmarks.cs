using System;
using BenchmarkDotNet.Attributes;
using MlNetMlp.Interop;

namespace MlNetMlp.Benchmarks
{
    /// <summary>One epoch of a 784-256-128-10 ReLU MLP (Adam, batch 128) over 60,000 Fashion-MNIST-sized rows, driven
    /// from C# exactly as the trainer does it (one P/Invoke per minibatch), at 1 and 2 native threads, in float32 and
    /// (where the CPU has AVX512_BF16) bfloat16 precision.</summary>
    [SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
    public unsafe class TrainingEpochBenchmarks
    {
        private const int Rows = 60_000, Inputs = 784, Classes = 10, Batch = 128;
        private float* _x;
        private int[] _labels, _order;
        private MlpNetwork _network;
        private TrainerHandle _trainer;

        [Params(1, 2)]
        public int Threads { get; set; }

        [ParamsSource(nameof(Precisions))]
        public MlpPrecision Precision { get; set; }

        /// <summary>float32, and bfloat16 where this CPU runs it.</summary>
        public static MlpPrecision[] Precisions => NativeMethods.mlp_has_bfloat16() != 0
            ? new[] { MlpPrecision.Float32, MlpPrecision.BFloat16 }
            : new[] { MlpPrecision.Float32 };

        [GlobalSetup]
        public void Setup()
        {
            _x = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(Rows * Inputs * sizeof(float)), 64);
            var random = new Random(1);
            for (long i = 0; i < (long)Rows * Inputs; i++) _x[i] = (float)random.NextDouble();
            _labels = new int[Rows];
            _order = new int[Rows];
            for (int i = 0; i < Rows; i++) { _labels[i] = i % Classes; _order[i] = i; }
            random.Shuffle(_order);
            _network = new MlpNetwork(new[] { Inputs, 256, 128, Classes }, MlpActivation.Relu, NativeMethods.LossSoftmaxCrossEntropy);
            _network.Initialize(1);
            var config = new NativeMethods.TrainConfig
            {
                StructSize = sizeof(NativeMethods.TrainConfig), Optimizer = (int)MlpOptimizer.Adam, LearningRate = 1e-3f,
                Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f, MaxBatchRows = Batch, NumThreads = Threads,
                Precision = (int)Precision,
            };
            Native.Check(NativeMethods.mlp_trainer_create(_network.Handle, config, out _trainer));
            _trainer.KeepAlive(_network.Handle);
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _trainer.Dispose();
            _network.Handle.Dispose();
            System.Runtime.InteropServices.NativeMemory.AlignedFree(_x);
        }

        [Benchmark(Description = "epoch 784-256-128-10, B=128")]
        public double Epoch()
        {
            double sum = 0;
            fixed (int* order = _order, labels = _labels)
                for (int start = 0; start < Rows; start += Batch)
                {
                    int rows = Math.Min(Batch, Rows - start);
                    Native.Check(NativeMethods.mlp_trainer_step(_trainer, _x, Inputs, Rows, order + start, rows, labels, null, null, 1, out double loss));
                    sum += loss;
                }
            return sum;
        }
    }
}
