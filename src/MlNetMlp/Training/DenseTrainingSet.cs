using System;
using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>Dense rows, row-major in 64-byte-aligned native memory (the native code reads them many times per
    /// epoch; the first layer reads the minibatch's rows by index, without gathering).</summary>
    internal sealed unsafe class DenseTrainingSet : TrainingSet
    {
        private float* _features;

        private DenseTrainingSet(float* features, int columns, RowTargets targets, long[] missing) : base(columns, targets)
        {
            _features = features;
            Array.Copy(missing, MissingPerColumn, missing.Length);
        }

        internal float* Features => _features != null ? _features : throw new ObjectDisposedException(nameof(DenseTrainingSet));

        internal override bool IsSparse => false;

        internal override long StoredValues => (long)Rows * Columns;

        internal ReadOnlySpan<float> Row(int row) => new ReadOnlySpan<float>(Features + (long)row * Columns, Columns);

        internal static DenseTrainingSet ReadRows(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, IChannel ch,
            string what, int columns, long maxBytes = long.MaxValue, Func<DataViewRowId, bool> include = null, int expectedShare = 1)
        {
            long? knownRows = data.Data.GetRowCount() / expectedShare + (expectedShare > 1 ? 16 : 0);
            long capacity = knownRows.HasValue ? Math.Max(knownRows.Value, 1) : 1024;
            if ((double)capacity * columns * sizeof(float) > maxBytes)
                throw new BudgetExceededException(capacity * columns * sizeof(float));
            float* features = Allocate(capacity, columns);
            var missing = new long[columns];
            long rows = 0;
            try
            {
                var targets = ReadLoop(data, labelKind, classCount, host, ch, what, include: include, addFeatures: row =>
                {
                    if (rows == capacity)
                    {
                        capacity *= 2;
                        if ((double)capacity * columns * sizeof(float) > maxBytes)
                            throw new BudgetExceededException(capacity * columns * sizeof(float));
                        features = (float*)NativeMemory.AlignedRealloc(features, (nuint)(capacity * columns * sizeof(float)), 64);
                    }
                    CopyRow(row, new Span<float>(features + rows * columns, columns), missing);
                    rows++;
                });
                return new DenseTrainingSet(features, columns, targets, missing);
            }
            catch
            {
                NativeMemory.AlignedFree(features);
                throw;
            }
        }

        private static float* Allocate(long rows, int columns)
        {
            var bytes = (nuint)(rows * columns * sizeof(float));
            return (float*)NativeMemory.AlignedAlloc(bytes == 0 ? 64 : bytes, 64);
        }

        internal override MlpPreprocessing FitPreprocessing(int[] rows, bool normalize, int[] indicators, int seed, int threads) =>
            PreprocessingFitter.Fit(Features, Columns, rows, normalize, indicators, seed, threads);

        /// <summary>In place, widening the rows when the preprocessing adds indicator columns.</summary>
        internal override long ApplyPreprocessing(MlpPreprocessing preprocessing)
        {
            if (IsPreprocessed || preprocessing.Inputs != Columns)
                throw new InvalidOperationException("The preprocessing does not fit these rows.");
            int outputs = preprocessing.Outputs;
            if (outputs > Columns)
                _features = (float*)NativeMemory.AlignedRealloc(Features, (nuint)((long)Rows * outputs * sizeof(float)), 64);
            long missing = preprocessing.Apply(Features, Columns, Rows, Features, outputs);
            Columns = outputs;
            IsPreprocessed = true;
            return missing;
        }

        internal override double Step(TrainerHandle trainer, ReadOnlySpan<int> rows, bool update = true)
        {
            double loss;
            fixed (int* idx = rows)
            fixed (int* labels = Labels)
            fixed (float* targets = Targets)
            fixed (float* weights = Weights)
                Native.Check(NativeMethods.mlp_trainer_step(trainer, Features, Columns, Rows, idx, rows.Length, labels, targets, weights, update ? 1 : 0, out loss));
            return loss;
        }

        internal override (double Loss, double Metric, double Weight) Evaluate(TrainerHandle trainer, int[] rows)
        {
            double loss, metric, weight;
            fixed (int* idx = rows)
            fixed (int* labels = Labels)
            fixed (float* targets = Targets)
            fixed (float* weights = Weights)
                Native.Check(NativeMethods.mlp_trainer_evaluate(trainer, Features, Columns, Rows, idx, rows.Length, labels, targets, weights,
                    out loss, out metric, out weight));
            return (loss, metric, weight);
        }

        internal override void Predict(MlpNetwork network, int[] rows, int outputKind, float[] outputs, int threads)
        {
            if (rows == null)
            {
                var workspace = new float[network.WorkspaceSize(Rows)];
                network.Predict(new ReadOnlySpan<float>(Features, checked(Rows * Columns)), Rows, outputKind, outputs, workspace, threads);
                return;
            }
            // the selected rows gathered a chunk at a time into one pooled buffer, so memory stays bounded (a copy of
            // them all was made per member and epoch: 31 MB each for Fashion-MNIST's test set); rows score the same
            // alone as in any batch
            int chunk = Math.Min(rows.Length, PredictChunkRows), outs = network.OutputCount;
            float[] x = ArrayPool<float>.Shared.Rent(checked(chunk * Columns));
            try
            {
                var ws = new float[network.WorkspaceSize(chunk)];
                for (int c0 = 0; c0 < rows.Length; c0 += chunk)
                {
                    int n = Math.Min(chunk, rows.Length - c0);
                    for (int i = 0; i < n; i++)
                        Row(rows[c0 + i]).CopyTo(x.AsSpan(i * Columns, Columns));
                    network.Predict(x, n, outputKind, outputs.AsSpan(checked(c0 * outs), n * outs), ws, threads);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(x);
            }
        }

        /// <summary>Rows <see cref="Predict"/> gathers at a time when given a selection.</summary>
        internal const int PredictChunkRows = 1024;

        public override void Dispose()
        {
            if (_features != null)
            {
                NativeMemory.AlignedFree(_features);
                _features = null;
            }
        }
    }
}
