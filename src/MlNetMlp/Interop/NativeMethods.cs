using System;
using System.Runtime.InteropServices;

namespace MlNetMlp.Interop
{
    /// <summary>P/Invoke declarations of libmlnetmlp (native/include/mlnetmlp.h). Call through <see cref="Native"/>,
    /// which checks the ABI version once and turns statuses into exceptions.</summary>
    internal static unsafe partial class NativeMethods
    {
        /// <summary>"libmlnetmlp" on every OS (libmlnetmlp.so, .dylib, .dll): a Windows "mlnetmlp.dll" would clash
        /// with the managed MlNetMlp.dll in a case-insensitive application folder.</summary>
        internal const string LibraryName = "libmlnetmlp";

        /// <summary>The ABI this assembly was written against (MLP_ABI_VERSION).</summary>
        internal const int AbiVersion = 5;

        internal const int StatusOk = 0;
        internal const int StatusInvalidArgument = 1;
        internal const int StatusOutOfMemory = 2;
        internal const int StatusNotFinite = 3;

        internal const int LossSoftmaxCrossEntropy = 0;
        internal const int LossSigmoidLogLoss = 1;
        internal const int LossHinge = 2;
        internal const int LossSquared = 3;
        internal const int LossHuber = 4;

        internal const int OutputRaw = 0;
        internal const int OutputProbability = 1;

        /// <summary>Mirror of <c>mlp_train_config</c>; field order and sizes must match the header.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TrainConfig
        {
            public int StructSize;
            public int Optimizer;
            public float LearningRate;
            public float Momentum;
            public int Nesterov;
            public float Beta1, Beta2, Epsilon;
            public float L2;
            public float WeightDecay;
            public int MaxBatchRows;
            public int NumThreads;
            public float DropoutRate;
            public float LabelSmoothing;
            public ulong Seed;
            public int InputScale;
            public float InputScaleRate;
            public int SparseInput;
            public int Precision;
            public int Reserved;
        }

        /// <summary>Mirror of <c>mlp_csr</c>.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Csr
        {
            public long Rows;
            public long Cols;
            public long* Offsets;
            public int* Columns;
            public float* Values;
        }

        /// <summary>Mirror of <c>mlp_preprocess_spec</c>.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PreprocessSpec
        {
            public int StructSize;
            public int Inputs;
            public float* Fill;
            public float* Center;
            public float* Scale;
            public int SmoothClip;
            public int IndicatorCount;
            public int* IndicatorColumns;
        }

        [LibraryImport(LibraryName)] internal static partial int mlp_abi_version();
        [LibraryImport(LibraryName)] internal static partial int mlp_has_bfloat16();
        [LibraryImport(LibraryName)] internal static partial int mlp_network_set_scoring_precision(NetworkHandle network, int precision);
        [LibraryImport(LibraryName)] internal static partial int mlp_network_get_scoring_precision(NetworkHandle network, out int precision);
        [LibraryImport(LibraryName)] internal static partial nint mlp_last_error_message();
        [LibraryImport(LibraryName)] internal static partial nint mlp_isa();
        [LibraryImport(LibraryName)] internal static partial int mlp_set_num_threads(int n);
        [LibraryImport(LibraryName)] internal static partial int mlp_get_num_threads();

        [LibraryImport(LibraryName)]
        internal static partial int mlp_sgemm(int transA, int transB, long m, long n, long k, float alpha, float* a, long lda,
            float* b, long ldb, float beta, float* c, long ldc);

        [LibraryImport(LibraryName)]
        internal static partial int mlp_network_create(int numLayers, int* layerSizes, int hiddenActivation, int loss, out NetworkHandle network);
        [LibraryImport(LibraryName)] internal static partial int mlp_network_destroy(nint network);
        [LibraryImport(LibraryName)] internal static partial int mlp_network_init(NetworkHandle network, ulong seed);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_network_get_layer(NetworkHandle network, int layer, float* weights, long weightCount, float* biases, long biasCount);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_network_set_layer(NetworkHandle network, int layer, float* weights, long weightCount, float* biases, long biasCount);
        [LibraryImport(LibraryName)] internal static partial int mlp_network_workspace_size(NetworkHandle network, long rows, out long count);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_network_predict(NetworkHandle network, float* x, long ldx, long rows, int output, float* outputs, long ldo,
            float* workspace, long workspaceCount, int threads);

        [LibraryImport(LibraryName)] internal static partial int mlp_network_all_finite(NetworkHandle network, out int allFinite);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_network_predict_csr(NetworkHandle network, in Csr x, int output, float* outputs, long ldo,
            float* workspace, long workspaceCount, int threads);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_preprocess_csr(PreprocessorHandle preprocessor, int* columns, float* values, long count, long* missingCount);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_step_csr(TrainerHandle trainer, in Csr x, int* rowIndices, int batchRows,
            int* labels, float* targets, float* weights, int update, out double loss);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_evaluate_csr(TrainerHandle trainer, in Csr x, int* rowIndices, long rows,
            int* labels, float* targets, float* weights, out double lossSum, out double metricSum, out double weightSum);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_sync(TrainerHandle trainer);

        [LibraryImport(LibraryName)] internal static partial int mlp_preprocessor_create(in PreprocessSpec spec, out PreprocessorHandle preprocessor);
        [LibraryImport(LibraryName)] internal static partial int mlp_preprocessor_destroy(nint preprocessor);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_preprocess(PreprocessorHandle preprocessor, float* x, long ldx, long rows, float* output, long ldo, long* missingCount);

        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_create(NetworkHandle network, in TrainConfig config, out TrainerHandle trainer);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_destroy(nint trainer);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_set_learning_rate(TrainerHandle trainer, float learningRate);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_set_rate_factors(TrainerHandle trainer, int layers, float* weightFactors, float* biasFactors);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_set_regularization(TrainerHandle trainer, float dropoutRate, float weightDecay);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_step(TrainerHandle trainer, float* x, long ldx, long xRows, int* rowIndices, int batchRows,
            int* labels, float* targets, float* weights, int update, out double loss);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_gradient_buffer(TrainerHandle trainer, out float* gradient, out long count);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_apply_gradient(TrainerHandle trainer);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_sparse_gradient(TrainerHandle trainer, out int* columns, out float* rows, out long count);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_apply_sparse_gradient(TrainerHandle trainer, int* columns, float* rows, long count);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_state_size(TrainerHandle trainer, out long bytes);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_get_state(TrainerHandle trainer, byte* state, long bytes);
        [LibraryImport(LibraryName)] internal static partial int mlp_trainer_set_state(TrainerHandle trainer, byte* state, long bytes);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_get_gradient(TrainerHandle trainer, int layer, float* weights, long weightCount, float* biases, long biasCount);
        [LibraryImport(LibraryName)]
        internal static partial int mlp_trainer_evaluate(TrainerHandle trainer, float* x, long ldx, long xRows, int* rowIndices, long rows,
            int* labels, float* targets, float* weights, out double lossSum, out double metricSum, out double weightSum);
    }
}
