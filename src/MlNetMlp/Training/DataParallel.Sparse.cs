using System;
using MlNetMlp.Interop;

namespace MlNetMlp.Training
{
    internal sealed unsafe partial class DataParallel
    {
        /// <summary>Above this many gathered first-layer rows per input column (summed over the ranks), the union of
        /// the ranks' columns is nearly dense and one dense allreduce of the whole first layer moves fewer bytes than
        /// the allgather of every rank's rows (a ring allgather moves each gathered row once, an allreduce each row of
        /// the layer twice). Settable for tests.</summary>
        internal static double DenseUnionRowsPerColumn = 2.0;

        /// <summary>Sparse first layer: the members' gradients summed over the ranks and applied. The dense part
        /// (biases of the first layer, all later layers) and each rank's count of first-layer rows travel in one
        /// allreduce; then the row-sparse first-layer gradients either by one allgather of (columns, rows), merged
        /// over the union of the columns in rank order, or, when the union is nearly dense, by one dense allreduce of
        /// the first layer with a column-presence vector. Every rank applies the same union, so lazily updated rows
        /// stay identical across ranks.</summary>
        internal void AllReduceAndApplySparse(TrainerHandle[] trainers, int localRows, int globalRows, int inputs, int hidden)
        {
            float share = (float)localRows / globalRows;
            int members = trainers.Length, dense = Gradient(trainers[0]).Length;
            var sparse = new (int[] Columns, float[] Rows)[members];
            var fused = new float[(long)dense * members + members];
            for (int m = 0; m < members; m++)
            {
                var g = Gradient(trainers[m]);
                Scale(g, share, localRows);
                g.CopyTo(fused.AsSpan(m * dense, dense));
                sparse[m] = localRows == 0 ? (Array.Empty<int>(), Array.Empty<float>()) : RowGradient(trainers[m], hidden, share);
                fused[(long)dense * members + m] = sparse[m].Columns.Length;
            }
            _comm.AllReduceSum(fused);
            double gathered = 0;
            for (int m = 0; m < members; m++)
            {
                fused.AsSpan(m * dense, dense).CopyTo(Gradient(trainers[m]));
                gathered += fused[(long)dense * members + m];
            }
            var unions = gathered > DenseUnionRowsPerColumn * inputs * members
                ? DenseUnion(sparse, inputs, hidden)
                : GatheredUnion(sparse, hidden);
            for (int m = 0; m < members; m++)
                fixed (int* c = unions[m].Columns)
                fixed (float* r = unions[m].Rows)
                    CheckApplied(NativeMethods.mlp_trainer_apply_sparse_gradient(trainers[m], c, r, unions[m].Columns.Length));
        }

        /// <summary>The trainer's first-layer row gradient, scaled by <paramref name="share"/>.</summary>
        private static (int[] Columns, float[] Rows) RowGradient(TrainerHandle trainer, int hidden, float share)
        {
            Native.Check(NativeMethods.mlp_trainer_sparse_gradient(trainer, out int* columns, out float* rows, out long count));
            var c = new ReadOnlySpan<int>(columns, checked((int)count)).ToArray();
            var r = new ReadOnlySpan<float>(rows, checked((int)(count * hidden))).ToArray();
            Scale(r, share, 1);
            return (c, r);
        }

        /// <summary>One allgather of every member's (count, columns, rows), merged per member over the union of the
        /// ranks' columns; a row is summed over the ranks that have it, in rank order.</summary>
        private (int[] Columns, float[] Rows)[] GatheredUnion((int[] Columns, float[] Rows)[] mine, int hidden)
        {
            long length = 0;
            foreach (var (c, r) in mine) length += 1 + c.Length + r.Length;
            var message = new float[length];
            long o = 0;
            foreach (var (c, r) in mine)
            {
                message[o++] = BitConverter.Int32BitsToSingle(c.Length);
                for (int i = 0; i < c.Length; i++) message[o++] = BitConverter.Int32BitsToSingle(c[i]);
                r.CopyTo(message, o);
                o += r.Length;
            }
            var parts = _comm.AllGather(message);
            if (parts.Length != Size)
                throw new InvalidOperationException($"Communicator: AllGather returned {parts.Length} parts for {Size} ranks.");
            var result = new (int[] Columns, float[] Rows)[mine.Length];
            var at = new long[Size];
            for (int m = 0; m < mine.Length; m++)
            {
                // each rank's part of member m: count, columns (ascending), rows
                var starts = new long[Size];
                var counts = new int[Size];
                long most = 0;
                for (int p = 0; p < Size; p++)
                {
                    counts[p] = BitConverter.SingleToInt32Bits(parts[p][at[p]]);
                    starts[p] = at[p] + 1;
                    at[p] = starts[p] + counts[p] + (long)counts[p] * hidden;
                    most += counts[p];
                }
                result[m] = Merge(parts, starts, counts, checked((int)most), hidden);
            }
            return result;
        }

        /// <summary>The k-way merge of the ranks' ascending column lists; rows summed in rank order.</summary>
        private static (int[] Columns, float[] Rows) Merge(float[][] parts, long[] starts, int[] counts, int most, int hidden)
        {
            int ranks = parts.Length;
            var next = new int[ranks];
            var columns = new int[most];
            var rows = new float[(long)most * hidden];
            int n = 0;
            while (true)
            {
                int column = int.MaxValue;
                for (int p = 0; p < ranks; p++)
                    if (next[p] < counts[p])
                        column = Math.Min(column, BitConverter.SingleToInt32Bits(parts[p][starts[p] + next[p]]));
                if (column == int.MaxValue)
                    break;
                columns[n] = column;
                var sum = rows.AsSpan(n * hidden, hidden);
                bool first = true;
                for (int p = 0; p < ranks; p++)
                {
                    if (next[p] >= counts[p] || BitConverter.SingleToInt32Bits(parts[p][starts[p] + next[p]]) != column)
                        continue;
                    var row = parts[p].AsSpan((int)(starts[p] + counts[p] + (long)next[p] * hidden), hidden);
                    if (first)
                        row.CopyTo(sum);
                    else
                        for (int k = 0; k < hidden; k++) sum[k] += row[k];
                    first = false;
                    next[p]++;
                }
                n++;
            }
            return (columns[..n], rows[..(n * hidden)]);
        }

        /// <summary>One dense allreduce of every member's first layer (rows scattered into place) and a presence count
        /// per column; the union is the columns present on some rank.</summary>
        private (int[] Columns, float[] Rows)[] DenseUnion((int[] Columns, float[] Rows)[] mine, int inputs, int hidden)
        {
            long layer = (long)inputs * hidden, each = layer + inputs;
            var all = new float[each * mine.Length];
            for (int m = 0; m < mine.Length; m++)
            {
                var (c, r) = mine[m];
                for (int i = 0; i < c.Length; i++)
                {
                    r.AsSpan(i * hidden, hidden).CopyTo(all.AsSpan(checked((int)(m * each + (long)c[i] * hidden)), hidden));
                    all[m * each + layer + c[i]] = 1;
                }
            }
            _comm.AllReduceSum(all);
            var result = new (int[] Columns, float[] Rows)[mine.Length];
            for (int m = 0; m < mine.Length; m++)
            {
                int n = 0;
                for (int c = 0; c < inputs; c++) n += all[m * each + layer + c] > 0 ? 1 : 0;
                var columns = new int[n];
                var rows = new float[(long)n * hidden];
                n = 0;
                for (int c = 0; c < inputs; c++)
                {
                    if (!(all[m * each + layer + c] > 0))
                        continue;
                    columns[n] = c;
                    all.AsSpan(checked((int)(m * each + (long)c * hidden)), hidden).CopyTo(rows.AsSpan(n * hidden, hidden));
                    n++;
                }
                result[m] = (columns, rows);
            }
            return result;
        }
    }
}
