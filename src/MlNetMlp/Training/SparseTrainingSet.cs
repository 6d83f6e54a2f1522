using System;
using System.Threading.Tasks;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>Sparse rows in CSR form (row offsets, column indices, values), read straight from the rows'
    /// <c>VBuffer</c> indices and values, never densified: memory and arithmetic cost what the nonzeros cost. The native
    /// trainer takes CSR minibatches (sparse first layer, lazy updates).</summary>
    internal sealed unsafe class SparseTrainingSet : TrainingSet
    {
        private readonly long[] _offsets;
        private readonly int[] _columns;
        private readonly float[] _values;

        private SparseTrainingSet(int columns, RowTargets targets, long[] offsets, int[] indices, float[] values, long[] missing)
            : base(columns, targets)
        {
            _offsets = offsets;
            _columns = indices;
            _values = values;
            Array.Copy(missing, MissingPerColumn, missing.Length);
        }

        internal override bool IsSparse => true;

        internal override long StoredValues => _offsets[Rows];

        internal static SparseTrainingSet ReadRows(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, IChannel ch,
            string what, int columns, long maxBytes = long.MaxValue, Func<DataViewRowId, bool> include = null, int expectedShare = 1)
        {
            long? knownRows = data.Data.GetRowCount() / expectedShare + (expectedShare > 1 ? 16 : 0);
            var offsets = new long[(knownRows ?? 1024) + 1];
            var indices = new int[1024];
            var values = new float[1024];
            var missing = new long[columns];
            int rows = 0;
            long nnz = 0;
            var targets = ReadLoop(data, labelKind, classCount, host, ch, what, include: include, addFeatures: row =>
            {
                var v = row.GetValues();
                int count = 0;
                foreach (var x in v)
                    if (x != 0) count++; // explicit zeros (and dense rows' zeros) are not stored
                if (nnz + count > indices.Length)
                {
                    long grown = Math.Max(indices.Length * 2L, nnz + count);
                    if (grown * (sizeof(int) + sizeof(float)) > maxBytes)
                        throw new BudgetExceededException(grown * (sizeof(int) + sizeof(float)));
                    if (grown > Array.MaxLength)
                        throw ch.Except($"The {what} data has more than {Array.MaxLength} non-zero feature values.");
                    Array.Resize(ref indices, (int)grown);
                    Array.Resize(ref values, (int)grown);
                }
                if (rows + 1 >= offsets.Length)
                    Array.Resize(ref offsets, offsets.Length * 2);
                if (row.IsDense)
                {
                    for (int j = 0; j < v.Length; j++)
                        if (v[j] != 0)
                            Put(j, v[j]);
                }
                else
                {
                    var idx = row.GetIndices();
                    for (int i = 0; i < idx.Length; i++)
                        if (v[i] != 0)
                            Put(idx[i], v[i]);
                }
                offsets[++rows] = nnz;

                void Put(int column, float value)
                {
                    if (!float.IsFinite(value))
                        missing[column]++;
                    indices[nnz] = column;
                    values[nnz] = value;
                    nnz++;
                }
            });
            Array.Resize(ref offsets, rows + 1);
            Array.Resize(ref indices, (int)nnz);
            Array.Resize(ref values, (int)nnz);
            return new SparseTrainingSet(columns, targets, offsets, indices, values, missing);
        }

        /// <summary>Sparse columns are scaled, never centred (a centre would fill every row): 1 / the largest absolute
        /// value of the column over the training rows (0 for a column that is never non-zero), no clip, missing
        /// values as 0 (the implicit value), no indicators.</summary>
        internal override MlpPreprocessing FitPreprocessing(int[] rows, bool normalize, int[] indicators, int seed, int threads)
        {
            var scale = new float[Columns];
            if (normalize)
            {
                var largest = new float[Columns];
                foreach (int r in rows)
                    for (long k = _offsets[r]; k < _offsets[r + 1]; k++)
                        if (float.IsFinite(_values[k]))
                            largest[_columns[k]] = Math.Max(largest[_columns[k]], Math.Abs(_values[k]));
                for (int j = 0; j < Columns; j++)
                    scale[j] = largest[j] > 0 ? (float)Math.Min(1.0 / largest[j], float.MaxValue) : 0f;
            }
            else
                Array.Fill(scale, 1f);
            return new MlpPreprocessing(new float[Columns], new float[Columns], scale, false, Array.Empty<int>());
        }

        internal override long ApplyPreprocessing(MlpPreprocessing preprocessing)
        {
            if (IsPreprocessed || preprocessing.Inputs != Columns || preprocessing.Outputs != Columns)
                throw new InvalidOperationException("The preprocessing does not fit these rows.");
            long missing = preprocessing.ApplySparse(_columns, _values);
            IsPreprocessed = true;
            return missing;
        }

        /// <summary>The CSR view of all rows, for a native call with the arrays pinned.</summary>
        private static NativeMethods.Csr View(long rows, int cols, long* offsets, int* columns, float* values) => new NativeMethods.Csr
        {
            Rows = rows, Cols = cols, Offsets = offsets, Columns = columns, Values = values,
        };

        internal override double Step(TrainerHandle trainer, ReadOnlySpan<int> rows, bool update = true)
        {
            double loss;
            fixed (long* offsets = _offsets)
            fixed (int* columns = _columns)
            fixed (float* values = _values)
            fixed (int* idx = rows)
            fixed (int* labels = Labels)
            fixed (float* targets = Targets)
            fixed (float* weights = Weights)
                Native.Check(NativeMethods.mlp_trainer_step_csr(trainer, View(Rows, Columns, offsets, columns, values), idx, rows.Length,
                    labels, targets, weights, update ? 1 : 0, out loss));
            return loss;
        }

        internal override (double Loss, double Metric, double Weight) Evaluate(TrainerHandle trainer, int[] rows)
        {
            double loss, metric, weight;
            fixed (long* offsets = _offsets)
            fixed (int* columns = _columns)
            fixed (float* values = _values)
            fixed (int* idx = rows)
            fixed (int* labels = Labels)
            fixed (float* targets = Targets)
            fixed (float* weights = Weights)
                Native.Check(NativeMethods.mlp_trainer_evaluate_csr(trainer, View(Rows, Columns, offsets, columns, values), idx, rows.Length,
                    labels, targets, weights, out loss, out metric, out weight));
            return (loss, metric, weight);
        }

        internal override void Predict(MlpNetwork network, int[] rows, int outputKind, float[] outputs, int threads)
        {
            long[] offsets = _offsets;
            int[] columns = _columns;
            float[] values = _values;
            int n = Rows;
            if (rows != null)
            {
                // the selected rows as a block of their own
                n = rows.Length;
                offsets = new long[n + 1];
                long total = 0;
                for (int i = 0; i < n; i++)
                    offsets[i + 1] = total += _offsets[rows[i] + 1] - _offsets[rows[i]];
                columns = new int[total];
                values = new float[total];
                for (int i = 0; i < n; i++)
                {
                    long from = _offsets[rows[i]], count = _offsets[rows[i] + 1] - from;
                    Array.Copy(_columns, from, columns, offsets[i], count);
                    Array.Copy(_values, from, values, offsets[i], count);
                }
            }
            var workspace = new float[network.WorkspaceSize(n)];
            fixed (long* o = offsets)
            fixed (int* c = columns)
            fixed (float* v = values)
            fixed (float* output = outputs)
            fixed (float* ws = workspace)
                Native.Check(NativeMethods.mlp_network_predict_csr(network.Handle, View(n, Columns, o, c, v), outputKind, output,
                    network.OutputCount, ws, workspace.Length, threads));
        }

        public override void Dispose()
        {
        }
    }
}
