using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using MlNetMlp.Interop;

namespace MlNetMlp.Training
{
    /// <summary>The pieces of synchronous data-parallel training that touch the communicator: the initial weights from
    /// rank 0, each rank's share of a global minibatch, the fused gradient allreduce of all members, and reduced sums.
    /// The epoch loop (<see cref="MlpTrainingLoop"/>) decides when they run.</summary>
    internal sealed unsafe partial class DataParallel
    {
        private readonly IMlpCommunicator _comm;
        private readonly long[] _shardRows;
        private float[] _fused;

        /// <summary>Replicated rows (every rank holds all of them), or, with <paramref name="shardRows"/>, the number of
        /// training rows each rank holds of its own.</summary>
        internal DataParallel(IMlpCommunicator comm, long[] shardRows = null)
        {
            _comm = comm;
            _shardRows = shardRows;
        }

        internal int Rank => _comm.Rank;
        internal int Size => _comm.Size;
        internal bool IsSharded => _shardRows != null;

        /// <summary>All ranks' training rows when sharded (null when every rank holds all rows).</summary>
        internal long? TotalRows => _shardRows?.Sum();

        /// <summary>The minibatches of an epoch over this rank's <paramref name="localRows"/> rows: for each, where this
        /// rank's rows start in its order, how many it takes, and the global batch's rows. Replicated: every rank walks
        /// the same global batches of <paramref name="batch"/> rows and takes its <see cref="Share"/>. Sharded: the global
        /// batches are ceil(total / batch) and rank r takes up to ceil(rows_r / batches) of its own rows per batch.</summary>
        internal IEnumerable<(int Offset, int Local, int Global)> Steps(int localRows, int batch)
        {
            if (!IsSharded)
            {
                for (int start = 0; start < localRows; start += batch)
                {
                    int rows = Math.Min(batch, localRows - start);
                    var (first, local) = Share(rows);
                    yield return (start + first, local, rows);
                }
                yield break;
            }
            long steps = (_shardRows.Sum() + batch - 1) / batch;
            for (long s = 0; s < steps; s++)
            {
                int global = 0;
                for (int r = 0; r < Size; r++) global += ShardRowsAt(r, s, steps);
                yield return ((int)(s * ShardBatch(Rank, steps)), ShardRowsAt(Rank, s, steps), global);
            }
        }

        /// <summary>Sharded: rank r's rows per minibatch (its last ones may have fewer, or none).</summary>
        internal int ShardBatch(int rank, long steps) => (int)((_shardRows[rank] + steps - 1) / steps);

        private int ShardRowsAt(int rank, long step, long steps)
        {
            long b = ShardBatch(rank, steps);
            return (int)Math.Clamp(_shardRows[rank] - step * b, 0, b);
        }

        /// <summary>Rows [Start, Start + Count) of a global minibatch of <paramref name="rows"/> are this rank's: the
        /// ranks' shares are contiguous, disjoint and cover the batch (sizes differ by at most one row).</summary>
        internal (int Start, int Count) Share(int rows)
        {
            int lo = (int)((long)rows * Rank / Size), hi = (int)((long)rows * (Rank + 1) / Size);
            return (lo, hi - lo);
        }

        /// <summary>Every rank gets rank 0's weights (one broadcast per network, all layers fused).</summary>
        internal void BroadcastWeights(MlpNetwork[] networks)
        {
            foreach (var network in networks)
            {
                int layers = network.LayerCount;
                long total = 0;
                for (int l = 0; l < layers; l++) total += network.WeightCount(l) + network.Sizes[l + 1];
                var all = new float[total];
                long o = 0;
                for (int l = 0; l < layers; l++)
                {
                    network.GetWeights(l).CopyTo(all, o);
                    o += network.WeightCount(l);
                    network.GetBiases(l).CopyTo(all, o);
                    o += network.Sizes[l + 1];
                }
                _comm.Broadcast(all, root: 0);
                o = 0;
                for (int l = 0; l < layers; l++)
                {
                    var w = new float[network.WeightCount(l)];
                    var b = new float[network.Sizes[l + 1]];
                    Array.Copy(all, o, w, 0, w.Length);
                    o += w.Length;
                    Array.Copy(all, o, b, 0, b.Length);
                    o += b.Length;
                    network.SetLayer(l, w, b);
                }
            }
        }

        /// <summary>The trainer's native gradient buffer (valid while the trainer lives).</summary>
        internal static Span<float> Gradient(TrainerHandle trainer)
        {
            Native.Check(NativeMethods.mlp_trainer_gradient_buffer(trainer, out float* g, out long count));
            return new Span<float>(g, checked((int)count));
        }

        /// <summary>Sums the members' gradients over the ranks in one allreduce and applies them. Before, each
        /// member's buffer holds the mean gradient of its <paramref name="localRows"/> rows of a global batch of
        /// <paramref name="globalRows"/> (or a NaN from a rank whose loss was not finite); each is weighted by its share
        /// of the batch, so the sum is the global batch's mean gradient.</summary>
        internal void AllReduceAndApply(TrainerHandle[] trainers, int localRows, int globalRows)
        {
            float share = (float)localRows / globalRows;
            if (trainers.Length == 1)
            {
                // in place: the native buffer travels as it is
                var g = Gradient(trainers[0]);
                Scale(g, share, localRows);
                _comm.AllReduceSum(g);
            }
            else
            {
                int n = Gradient(trainers[0]).Length;
                _fused ??= new float[(long)n * trainers.Length];
                for (int m = 0; m < trainers.Length; m++)
                {
                    var g = Gradient(trainers[m]);
                    Scale(g, share, localRows);
                    g.CopyTo(_fused.AsSpan(m * n, n));
                }
                _comm.AllReduceSum(_fused);
                for (int m = 0; m < trainers.Length; m++)
                    _fused.AsSpan(m * n, n).CopyTo(Gradient(trainers[m]));
            }
            foreach (var t in trainers)
                CheckApplied(NativeMethods.mlp_trainer_apply_gradient(t));
        }

        /// <summary>The status of an update from reduced gradients: a NaN from any rank stops them all alike.</summary>
        private static void CheckApplied(int status)
        {
            if (status == NativeMethods.StatusNotFinite)
                throw new InvalidOperationException("The training loss or gradient became non-finite on this or another rank " +
                    $"({Native.LastError}): the learning rate is probably too high or the features are not normalized.");
            Native.Check(status);
        }

        /// <summary>Reduced (loss, metric, weight) sums, identical on every rank.</summary>
        internal (double, double, double) Sum((double Loss, double Metric, double Weight) local)
        {
            Span<double> sums = stackalloc double[] { local.Loss, local.Metric, local.Weight };
            _comm.AllReduceSum(sums);
            return (sums[0], sums[1], sums[2]);
        }

        /// <summary>Reduced values, identical on every rank.</summary>
        internal void Sum(Span<double> values) => _comm.AllReduceSum(values);

        /// <summary>Rank 0's bytes (or null) on every rank.</summary>
        internal byte[] BroadcastBytes(byte[] fromRoot) => _comm.BroadcastBytes(fromRoot);

        /// <summary>This rank's rows of a validation set: every Size-th, from its rank.</summary>
        internal int[] Stride(int[] rows)
        {
            var mine = new int[(rows.Length - Rank + Size - 1) / Size];
            for (int i = 0; i < mine.Length; i++) mine[i] = rows[Rank + i * Size];
            return mine;
        }

        /// <summary>g *= share (zero when the rank had no rows of this batch; a NaN stays a NaN).</summary>
        internal static void Scale(Span<float> g, float share, int localRows)
        {
            if (localRows == 0)
            {
                g.Clear();
                return;
            }
            var v = MemoryMarshal.Cast<float, Vector<float>>(g);
            var s = new Vector<float>(share);
            for (int i = 0; i < v.Length; i++) v[i] *= s;
            for (int i = v.Length * Vector<float>.Count; i < g.Length; i++) g[i] *= share;
        }
    }
}
