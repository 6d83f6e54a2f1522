using System;
using System.Numerics;
using System.Runtime.InteropServices;
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
            var rowGradients = new (IntPtr Columns, IntPtr Rows, int Count)[members];
            var fused = Rent(ref _sparseFused, (long)dense * members + members);
            for (int m = 0; m < members; m++)
            {
                var g = Gradient(trainers[m]);
                Scale(g, share, localRows);
                g.CopyTo(fused.Slice(m * dense, dense));
                Native.Check(NativeMethods.mlp_trainer_sparse_gradient(trainers[m], out int* c, out float* r, out long k));
                rowGradients[m] = ((IntPtr)c, (IntPtr)r, localRows == 0 ? 0 : checked((int)k));
                fused[dense * members + m] = rowGradients[m].Count;
            }
            _comm.AllReduceSum(fused);
            double gathered = 0;
            for (int m = 0; m < members; m++)
            {
                fused.Slice(m * dense, dense).CopyTo(Gradient(trainers[m]));
                gathered += fused[dense * members + m];
            }
            if (gathered > DenseUnionRowsPerColumn * inputs * members)
            {
                var unions = DenseUnion(rowGradients, share, inputs, hidden);
                for (int m = 0; m < members; m++)
                    Apply(trainers[m], unions[m].Columns, unions[m].Rows, unions[m].Columns.Length);
                return;
            }
            var parts = _comm.AllGather(Message(rowGradients, share, hidden));
            if (parts.Length != Size)
                throw new InvalidOperationException($"Communicator: AllGather returned {parts.Length} parts for {Size} ranks.");
            var at = new long[Size];
            for (int m = 0; m < members; m++)
            {
                int n = Merge(parts, at, hidden);
                Apply(trainers[m], _unionColumns, _unionRows, n);
            }
        }

        private float[] _sparseFused, _message, _unionRows;
        private int[] _unionColumns;

        /// <summary>A buffer of at least <paramref name="length"/> elements, kept for the next steps.</summary>
        private static Span<T> Rent<T>(ref T[] buffer, long length)
        {
            if (buffer == null || buffer.Length < length)
                buffer = new T[Math.Max(length, (buffer?.Length ?? 0) * 3 / 2)];
            return buffer.AsSpan(0, checked((int)length));
        }

        private static void Apply(TrainerHandle trainer, int[] columns, float[] rows, int count)
        {
            fixed (int* c = columns)
            fixed (float* r = rows)
                CheckApplied(NativeMethods.mlp_trainer_apply_sparse_gradient(trainer, c, r, count));
        }

        /// <summary>Every member's (count, columns, rows × share) in one message: column indices travel as the bits of a
        /// float (copied, never computed with).</summary>
        private Span<float> Message((IntPtr Columns, IntPtr Rows, int Count)[] members, float share, int hidden)
        {
            long length = 0;
            foreach (var g in members) length += 1 + g.Count + (long)g.Count * hidden;
            var message = Rent(ref _message, length);
            int o = 0;
            foreach (var g in members)
            {
                message[o++] = BitConverter.Int32BitsToSingle(g.Count);
                var columns = new ReadOnlySpan<int>((void*)g.Columns, g.Count);
                for (int i = 0; i < columns.Length; i++) message[o++] = BitConverter.Int32BitsToSingle(columns[i]);
                var rows = new ReadOnlySpan<float>((void*)g.Rows, g.Count * hidden);
                var to = message.Slice(o, rows.Length);
                rows.CopyTo(to);
                Scale(to, share, 1);
                o += rows.Length;
            }
            return message;
        }

        /// <summary>The next member's part of every rank's message (read from <paramref name="at"/>, advanced past it),
        /// merged over the union of the ranks' ascending columns into the union buffers: a row is summed over the ranks
        /// that have it, in rank order. Returns the union's size.</summary>
        private int Merge(float[][] parts, long[] at, int hidden)
        {
            int ranks = parts.Length;
            var starts = new long[ranks];
            var counts = new int[ranks];
            var next = new int[ranks];
            long most = 0;
            for (int p = 0; p < ranks; p++)
            {
                counts[p] = BitConverter.SingleToInt32Bits(parts[p][at[p]]);
                starts[p] = at[p] + 1;
                at[p] = starts[p] + counts[p] + (long)counts[p] * hidden;
                most += counts[p];
            }
            var columns = Rent(ref _unionColumns, most);
            var rows = Rent(ref _unionRows, most * hidden);
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
                var sum = rows.Slice(n * hidden, hidden);
                bool first = true;
                for (int p = 0; p < ranks; p++)
                {
                    if (next[p] >= counts[p] || BitConverter.SingleToInt32Bits(parts[p][starts[p] + next[p]]) != column)
                        continue;
                    var row = parts[p].AsSpan(checked((int)(starts[p] + counts[p] + (long)next[p] * hidden)), hidden);
                    if (first)
                        row.CopyTo(sum);
                    else
                        Add(row, sum);
                    first = false;
                    next[p]++;
                }
                n++;
            }
            return n;
        }

        /// <summary>sum += row, element by element (vectorized; the same sums as a scalar loop).</summary>
        private static void Add(ReadOnlySpan<float> row, Span<float> sum)
        {
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var r = MemoryMarshal.Cast<float, Vector<float>>(row);
                var s = MemoryMarshal.Cast<float, Vector<float>>(sum);
                for (int i = 0; i < r.Length; i++) s[i] += r[i];
                k = r.Length * Vector<float>.Count;
            }
            for (; k < sum.Length; k++) sum[k] += row[k];
        }

        /// <summary>One dense allreduce of every member's first layer (rows scattered into place, scaled by
        /// <paramref name="share"/>) and a presence count per column; the union is the columns present on some rank.</summary>
        private (int[] Columns, float[] Rows)[] DenseUnion((IntPtr Columns, IntPtr Rows, int Count)[] mine, float share, int inputs, int hidden)
        {
            long layer = (long)inputs * hidden, each = layer + inputs;
            var all = new float[each * mine.Length];
            for (int m = 0; m < mine.Length; m++)
            {
                var c = new ReadOnlySpan<int>((void*)mine[m].Columns, mine[m].Count);
                var r = new ReadOnlySpan<float>((void*)mine[m].Rows, mine[m].Count * hidden);
                for (int i = 0; i < c.Length; i++)
                {
                    var to = all.AsSpan(checked((int)(m * each + (long)c[i] * hidden)), hidden);
                    r.Slice(i * hidden, hidden).CopyTo(to);
                    Scale(to, share, 1);
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
