using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>How the label column is turned into training targets.</summary>
    internal enum LabelKind
    {
        /// <summary>Key-typed label: class index = key - 1 (key 0 is missing).</summary>
        Key,
        /// <summary>Boolean label: target 1 for true, 0 for false.</summary>
        Boolean,
        /// <summary>Single label: the target itself (regression).</summary>
        Real,
    }

    /// <summary>A data view read into memory for training: features (dense rows, <see cref="DenseTrainingSet"/>, or
    /// sparse CSR rows, <see cref="SparseTrainingSet"/>, chosen by the data's measured density), labels or targets, and
    /// optional weights. The training loop, validation and the calibrator use it only through this class: a step on
    /// some of its rows, an evaluation, a prediction. Rows with a missing label or an invalid weight are skipped and
    /// counted; missing (non-finite) features are kept and counted per column, for the preprocessing to impute.</summary>
    internal abstract unsafe class TrainingSet : IDisposable
    {
        /// <summary>Rows whose share of nonzero features is at most this are stored sparse: `bench_sparse` measured a CSR
        /// step at 0.72-0.96x a dense one at 5% density and 1.12-1.15x at 10% (2048 and 300 inputs, batch 256). Data whose
        /// dense copy would not fit the memory budget is stored sparse at any density where CSR is smaller (below 50%).
        /// Settable only so that tests can compare the two storages on the same data.</summary>
        internal static double SparseDensityThreshold = 0.05;

        /// <summary>The share of the machine's memory a dense copy of the training rows may take before the rows are
        /// stored sparse instead (when that is smaller), and the in-memory budget of <see cref="MlpDataMode.Auto"/>.</summary>
        internal const double DenseMemoryShare = 0.25;

        /// <summary>Bytes the in-memory copy may take in <see cref="MlpDataMode.Auto"/>: a quarter of the memory available
        /// to the process, or (tests) an override.</summary>
        internal static long InMemoryBudgetBytes => InMemoryBudgetOverride ?? (long)(DenseMemoryShare * GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

        /// <summary>Set by tests to force the streaming decision with small data.</summary>
        internal static long? InMemoryBudgetOverride;

        /// <summary>Thrown while reading when the in-memory copy outgrows its budget (the session streams instead).</summary>
        internal sealed class BudgetExceededException : Exception
        {
            internal BudgetExceededException(long bytes) : base($"the in-memory copy passed {bytes} bytes") => Bytes = bytes;
            internal long Bytes { get; }
        }

        /// <summary>Rows read to measure the density before choosing the storage.</summary>
        internal const int DensityProbeRows = 2048;

        protected TrainingSet(int columns, RowTargets targets)
        {
            Columns = columns;
            Rows = targets.Count;
            Labels = targets.Labels;
            Targets = targets.Targets;
            Weights = targets.Weights;
            MissingPerColumn = new long[columns];
        }

        internal int Rows { get; }
        /// <summary>Row length: the raw feature count, or the preprocessing's outputs once applied.</summary>
        internal int Columns { get; private protected set; }
        /// <summary>Class indices (key labels) or null.</summary>
        internal int[] Labels { get; }
        /// <summary>Targets (boolean/real labels) or null.</summary>
        internal float[] Targets { get; }
        /// <summary>Example weights or null (all 1).</summary>
        internal float[] Weights { get; }
        /// <summary>Non-finite (missing) values read in each raw feature column.</summary>
        internal long[] MissingPerColumn { get; }
        /// <summary>Whether <see cref="ApplyPreprocessing"/> has run.</summary>
        internal bool IsPreprocessed { get; private protected set; }
        /// <summary>CSR storage: the trainer takes sparse batches (<c>sparse_input</c>).</summary>
        internal abstract bool IsSparse { get; }
        /// <summary>Stored nonzero (or, dense, all) feature values, for the log.</summary>
        internal abstract long StoredValues { get; }

        /// <summary>Fits the preprocessing on <paramref name="rows"/> (see <see cref="PreprocessingFitter"/>).</summary>
        internal abstract MlpPreprocessing FitPreprocessing(int[] rows, bool normalize, int[] indicators, int seed, int threads);

        /// <summary>Transforms the rows in place into the network's inputs; returns the number of missing values imputed.</summary>
        internal abstract long ApplyPreprocessing(MlpPreprocessing preprocessing);

        /// <summary>One training step on <paramref name="rows"/>; returns the batch's mean loss. With <paramref name="update"/> false
        /// only the gradient is computed (data-parallel training applies it after the allreduce).</summary>
        internal abstract double Step(TrainerHandle trainer, ReadOnlySpan<int> rows, bool update = true);

        /// <summary>Sums of loss, metric and weight over <paramref name="rows"/>, through the trainer.</summary>
        internal abstract (double Loss, double Metric, double Weight) Evaluate(TrainerHandle trainer, int[] rows);

        /// <summary>The network's outputs (<paramref name="outputKind"/>) for <paramref name="rows"/> (null: all rows),
        /// row by row into <paramref name="outputs"/>.</summary>
        internal abstract void Predict(MlpNetwork network, int[] rows, int outputKind, float[] outputs, int threads);

        public abstract void Dispose();

        /// <summary>Reads the feature, label and weight roles of <paramref name="data"/>: into sparse storage when
        /// <paramref name="sparse"/> says so, or (null) when the first rows are sparse enough.</summary>
        internal static TrainingSet Read(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, IChannel ch, string what,
            bool? sparse = null, long maxBytes = long.MaxValue, Func<DataViewRowId, bool> include = null, int expectedShare = 1)
        {
            data.CheckFeatureFloatVector(out int columns);
            if (!data.Schema.Label.HasValue)
                throw ch.ExceptParam(nameof(data), "Training data must specify a label column.");
            double density = sparse.HasValue ? double.NaN : ProbeDensity(data, columns);
            bool stored = sparse ?? (density <= SparseDensityThreshold || (density < 0.5 && DenseTooLarge(data, columns)));
            TrainingSet set = stored
                ? SparseTrainingSet.ReadRows(data, labelKind, classCount, host, ch, what, columns, maxBytes, include, expectedShare)
                : DenseTrainingSet.ReadRows(data, labelKind, classCount, host, ch, what, columns, maxBytes, include, expectedShare);
            if (stored && !double.IsNaN(density))
                ch.Info($"The {what} features are sparse ({density:P1} of the {columns} values of the first rows are non-zero, at most " +
                    $"{SparseDensityThreshold:P0} stores rows sparse): {set.StoredValues} non-zero values in {set.Rows} rows, CSR storage.");
            return set;
        }

        /// <summary>Whether a dense copy of all rows (when the count is known) would exceed <see cref="DenseMemoryShare"/>
        /// of the memory available to the process.</summary>
        private static bool DenseTooLarge(RoleMappedData data, int columns)
        {
            long? rows = data.Data.GetRowCount();
            if (!rows.HasValue)
                return false;
            double bytes = (double)rows.Value * columns * sizeof(float);
            return bytes > DenseMemoryShare * GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        }

        /// <summary>Whether rows of this density are stored (or streamed) as CSR.</summary>
        internal static bool SparseAt(double density) => density <= SparseDensityThreshold;

        /// <summary>The share of non-zero values in the first <see cref="DensityProbeRows"/> rows.</summary>
        internal static double ProbeDensity(RoleMappedData data, int columns)
        {
            var featureColumn = data.Schema.Feature.Value;
            using var cursor = data.Data.GetRowCursor(new[] { featureColumn });
            var get = cursor.GetGetter<VBuffer<float>>(featureColumn);
            VBuffer<float> row = default;
            long nonzero = 0, rows = 0;
            while (rows < DensityProbeRows && cursor.MoveNext())
            {
                get(ref row);
                foreach (var v in row.GetValues())
                    if (v != 0) nonzero++;
                rows++;
            }
            return rows == 0 || columns == 0 ? 1 : (double)nonzero / ((double)rows * columns);
        }

        /// <summary>Labels, targets and weights of the accepted rows, as they are read.</summary>
        internal sealed class RowTargets
        {
            internal int Count;
            internal int[] Labels;
            internal float[] Targets;
            internal float[] Weights;

            internal RowTargets(LabelKind kind, bool weighted, int capacity)
            {
                Labels = kind == LabelKind.Key ? new int[capacity] : null;
                Targets = kind != LabelKind.Key ? new float[capacity] : null;
                Weights = weighted ? new float[capacity] : null;
            }

            internal void Add(float label, float weight)
            {
                int capacity = Labels?.Length ?? Targets.Length;
                if (Count == capacity)
                {
                    int grown = (int)Math.Min((long)capacity * 2 + 16, int.MaxValue);
                    if (Labels != null) Array.Resize(ref Labels, grown);
                    if (Targets != null) Array.Resize(ref Targets, grown);
                    if (Weights != null) Array.Resize(ref Weights, grown);
                }
                if (Labels != null) Labels[Count] = (int)label;
                else Targets[Count] = label;
                if (Weights != null) Weights[Count] = weight;
                Count++;
            }

            internal void Trim()
            {
                if (Labels != null) Array.Resize(ref Labels, Count);
                if (Targets != null) Array.Resize(ref Targets, Count);
                if (Weights != null) Array.Resize(ref Weights, Count);
            }
        }

        /// <summary>One pass over <paramref name="data"/>: every row with a usable label and weight goes to
        /// <paramref name="addFeatures"/> (then its targets are recorded); the skipped rows are counted and logged.</summary>
        private protected static RowTargets ReadLoop(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, IChannel ch,
            string what, Action<VBuffer<float>> addFeatures, Func<DataViewRowId, bool> include = null)
        {
            var featureColumn = data.Schema.Feature.Value;
            var labelColumn = data.Schema.Label.Value;
            var weightColumn = data.Schema.Weight;
            var active = weightColumn.HasValue
                ? new[] { featureColumn, labelColumn, weightColumn.Value }
                : new[] { featureColumn, labelColumn };
            long? knownRows = data.Data.GetRowCount();
            int capacity = knownRows.HasValue ? (int)Math.Min(Math.Max(knownRows.Value, 1), int.MaxValue) : 1024;
            var targets = new RowTargets(labelKind, weightColumn.HasValue, capacity);
            long badLabels = 0, badWeights = 0;
            using (var cursor = data.Data.GetRowCursor(active))
            {
                var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
                var getLabel = LabelGetter(cursor, labelColumn, labelKind, classCount, ch);
                var getWeight = weightColumn.HasValue ? cursor.GetGetter<float>(weightColumn.Value) : null;
                var getId = include != null ? cursor.GetIdGetter() : null;
                DataViewRowId id = default;
                VBuffer<float> row = default;
                while (cursor.MoveNext())
                {
                    host.CheckAlive();
                    if (getId != null)
                    {
                        getId(ref id);
                        if (!include(id)) continue;
                    }
                    if (targets.Count == int.MaxValue)
                        throw ch.Except($"The {what} data has more than {int.MaxValue} rows.");
                    float label = getLabel();
                    if (float.IsNaN(label))
                    {
                        badLabels++;
                        continue;
                    }
                    float weight = 1;
                    if (getWeight != null)
                    {
                        getWeight(ref weight);
                        if (!float.IsFinite(weight) || weight < 0)
                        {
                            badWeights++;
                            continue;
                        }
                    }
                    getFeatures(ref row);
                    addFeatures(row);
                    targets.Add(label, weight);
                }
            }
            long skipped = badLabels + badWeights;
            if (skipped > 0)
                ch.Warning($"Skipped {skipped} of {skipped + targets.Count} {what} rows: " +
                    $"{badLabels} with a missing or out-of-range label, {badWeights} with a negative or non-finite weight.");
            if (targets.Count == 0)
                throw ch.Except($"The {what} data has no usable rows ({skipped} skipped): every row had a missing label " +
                    "or an invalid weight.");
            targets.Trim();
            return targets;
        }

        /// <summary>Densifies <paramref name="src"/> into <paramref name="dst"/>, counting non-finite values per column
        /// into <paramref name="missing"/> (when given).</summary>
        internal static void CopyRow(in VBuffer<float> src, Span<float> dst, long[] missing = null)
        {
            var values = src.GetValues();
            if (src.IsDense)
            {
                values.CopyTo(dst);
                if (missing != null)
                    for (int j = 0; j < values.Length; j++)
                        if (!float.IsFinite(values[j]))
                            missing[j]++;
            }
            else
            {
                dst.Clear();
                var indices = src.GetIndices();
                for (int i = 0; i < indices.Length; i++)
                {
                    dst[indices[i]] = values[i];
                    if (missing != null && !float.IsFinite(values[i]))
                        missing[indices[i]]++;
                }
            }
        }

        /// <summary>A getter returning the class index / target as float, NaN when the label is missing or invalid.</summary>
        private protected static Func<float> LabelGetter(DataViewRowCursor cursor, DataViewSchema.Column column, LabelKind kind, int classCount, IExceptionContext ch)
        {
            switch (kind)
            {
                case LabelKind.Key:
                    {
                        if (column.Type.RawType != typeof(uint))
                            throw ch.ExceptSchemaMismatch(nameof(column), "label", column.Name, "Key<UInt32>", column.Type.ToString());
                        var get = cursor.GetGetter<uint>(column);
                        uint key = 0;
                        return () =>
                        {
                            get(ref key);
                            return key == 0 || key > classCount ? float.NaN : key - 1;
                        };
                    }
                case LabelKind.Boolean:
                    {
                        var get = cursor.GetGetter<bool>(column);
                        bool value = false;
                        return () =>
                        {
                            get(ref value);
                            return value ? 1f : 0f;
                        };
                    }
                default:
                    {
                        var get = cursor.GetGetter<float>(column);
                        float value = 0;
                        return () =>
                        {
                            get(ref value);
                            return float.IsFinite(value) ? value : float.NaN;
                        };
                    }
            }
        }
    }
}
