using System;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

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

    /// <summary>A data view materialized for training: dense row-major features in 64-byte-aligned native memory
    /// (they are read by native code many times per epoch), plus labels/targets and optional weights. Rows with a
    /// missing label or an invalid weight are skipped and counted; missing (non-finite) features are kept and counted
    /// per column, for the preprocessing to impute.</summary>
    internal sealed unsafe class TrainingSet : IDisposable
    {
        private float* _features;

        private TrainingSet(float* features, int rows, int columns, int[] labels, float[] targets, float[] weights, long[] missing)
        {
            _features = features;
            Rows = rows;
            Columns = columns;
            Labels = labels;
            Targets = targets;
            Weights = weights;
            MissingPerColumn = missing;
        }

        internal float* Features => _features != null ? _features : throw new ObjectDisposedException(nameof(TrainingSet));
        internal int Rows { get; }
        /// <summary>Row length: the raw feature count, or the preprocessing's outputs once applied.</summary>
        internal int Columns { get; private set; }
        /// <summary>Non-finite (missing) values read in each raw feature column.</summary>
        internal long[] MissingPerColumn { get; }
        /// <summary>Whether <see cref="ApplyPreprocessing"/> has run.</summary>
        internal bool IsPreprocessed { get; private set; }
        /// <summary>Class indices (key labels) or null.</summary>
        internal int[] Labels { get; }
        /// <summary>Targets (boolean/real labels) or null.</summary>
        internal float[] Targets { get; }
        /// <summary>Example weights or null (all 1).</summary>
        internal float[] Weights { get; }

        internal ReadOnlySpan<float> Row(int row) => new ReadOnlySpan<float>(Features + (long)row * Columns, Columns);

        /// <summary>Transforms the rows in place into the network's inputs (widening them when the preprocessing adds
        /// indicator columns); returns the number of missing values imputed.</summary>
        internal long ApplyPreprocessing(Preprocessing.MlpPreprocessing preprocessing)
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

        public void Dispose()
        {
            if (_features != null)
            {
                NativeMemory.AlignedFree(_features);
                _features = null;
            }
        }

        /// <summary>Reads the feature, label and weight roles of <paramref name="data"/>.</summary>
        internal static TrainingSet Read(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, IChannel ch, string what)
        {
            data.CheckFeatureFloatVector(out int columns);
            if (!data.Schema.Label.HasValue)
                throw ch.ExceptParam(nameof(data), "Training data must specify a label column.");
            var featureColumn = data.Schema.Feature.Value;
            var labelColumn = data.Schema.Label.Value;
            var weightColumn = data.Schema.Weight;

            var active = weightColumn.HasValue
                ? new[] { featureColumn, labelColumn, weightColumn.Value }
                : new[] { featureColumn, labelColumn };
            long? knownRows = data.Data.GetRowCount();
            int capacity = knownRows.HasValue ? (int)Math.Min(Math.Max(knownRows.Value, 1), int.MaxValue) : 1024;
            float* features = Allocate(capacity, columns);
            var labels = labelKind == LabelKind.Key ? new int[capacity] : null;
            var targets = labelKind != LabelKind.Key ? new float[capacity] : null;
            var weights = weightColumn.HasValue ? new float[capacity] : null;
            int rows = 0;
            long badLabels = 0, badWeights = 0;
            var missing = new long[columns];
            try
            {
                using var cursor = data.Data.GetRowCursor(active);
                var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
                var getLabel = MakeLabelGetter(cursor, labelColumn, labelKind, classCount, ch);
                var getWeight = weightColumn.HasValue ? cursor.GetGetter<float>(weightColumn.Value) : null;
                VBuffer<float> row = default;
                while (cursor.MoveNext())
                {
                    host.CheckAlive();
                    if (rows == int.MaxValue)
                        throw ch.Except($"The {what} data has more than {int.MaxValue} rows.");
                    if (rows == capacity)
                    {
                        int grown = (int)Math.Min((long)capacity * 2, int.MaxValue);
                        features = (float*)NativeMemory.AlignedRealloc(features, (nuint)((long)grown * columns * sizeof(float)), 64);
                        if (labels != null) Array.Resize(ref labels, grown);
                        if (targets != null) Array.Resize(ref targets, grown);
                        if (weights != null) Array.Resize(ref weights, grown);
                        capacity = grown;
                    }
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
                    CopyRow(row, new Span<float>(features + (long)rows * columns, columns), missing);
                    if (labels != null) labels[rows] = (int)label;
                    else targets[rows] = label;
                    if (weights != null) weights[rows] = weight;
                    rows++;
                }
            }
            catch
            {
                NativeMemory.AlignedFree(features);
                throw;
            }

            long skipped = badLabels + badWeights;
            if (skipped > 0)
                ch.Warning($"Skipped {skipped} of {skipped + rows} {what} rows: " +
                    $"{badLabels} with a missing or out-of-range label, {badWeights} with a negative or non-finite weight.");
            if (rows == 0)
            {
                NativeMemory.AlignedFree(features);
                throw ch.Except($"The {what} data has no usable rows ({skipped} skipped): every row had a missing label " +
                    "or an invalid weight.");
            }
            if (labels != null) Array.Resize(ref labels, rows);
            if (targets != null) Array.Resize(ref targets, rows);
            if (weights != null) Array.Resize(ref weights, rows);
            return new TrainingSet(features, rows, columns, labels, targets, weights, missing);
        }

        private static float* Allocate(int rows, int columns)
        {
            var bytes = (nuint)((long)rows * columns * sizeof(float));
            return (float*)NativeMemory.AlignedAlloc(bytes == 0 ? 64 : bytes, 64);
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
        private static Func<float> MakeLabelGetter(DataViewRowCursor cursor, DataViewSchema.Column column, LabelKind kind, int classCount, IChannel ch)
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
