using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>Sharded data-parallel training (<see cref="MlpDataSharding.ByRowId"/> or
    /// <see cref="MlpDataSharding.PrePartitioned"/>): which rows a rank reads, and the agreements that make every rank
    /// build the same trainer from different rows: the storage, the row and missing-value counts, the target statistics,
    /// and rank 0's input preprocessing.</summary>
    internal sealed class DataShards
    {
        private readonly IMlpCommunicator _comm;

        private DataShards(IMlpCommunicator comm, MlpDataSharding mode)
        {
            _comm = comm;
            Mode = mode;
        }

        /// <summary>The shards of a sharded run with several ranks, else null.</summary>
        internal static DataShards Create(MlpTrainerOptionsBase options) =>
            options.DataSharding != MlpDataSharding.Replicated && options.Communicator is { Size: > 1 } comm
                ? new DataShards(comm, options.DataSharding)
                : null;

        internal MlpDataSharding Mode { get; }
        internal int Rank => _comm.Rank;
        internal int Size => _comm.Size;

        /// <summary>The rows this rank reads of a view every rank passes whole (null: all of its view).</summary>
        internal Func<DataViewRowId, bool> Include => Mode == MlpDataSharding.ByRowId ? id => Owner(id) == Rank : null;

        /// <summary>How many ranks share one view's rows (for the reading buffers' first guess).</summary>
        internal int ReadShare => Mode == MlpDataSharding.ByRowId ? Size : 1;

        /// <summary>The rank a row belongs to: a fixed mix of its id, uniform over the ranks.</summary>
        private int Owner(DataViewRowId id)
        {
            ulong z = id.High * 0xD1B54A32D192ED03ul ^ id.Low;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
            z ^= z >> 31;
            return (int)(z % (ulong)Size);
        }

        /// <summary>Whether any rank says so.</summary>
        internal bool Any(bool local) => _comm.Sum(new[] { local ? 1.0 : 0.0 })[0] > 0;

        /// <summary>Whether every rank says the same (true or false).</summary>
        internal bool Agree(bool local)
        {
            double yes = _comm.Sum(new[] { local ? 1.0 : 0.0 })[0];
            return yes == 0 || yes == Size;
        }

        /// <summary>Throws unless every rank has the same <paramref name="local"/> value of <paramref name="what"/> (the
        /// schema pre-partitioned shards must share).</summary>
        internal void RequireSame(string what, long local, Microsoft.ML.Runtime.IChannel ch)
        {
            var all = PerRank(local);
            if (all.Any(v => v != all[0]))
                throw Microsoft.ML.Runtime.Contracts.Except(ch, $"Sharded data-parallel training: the ranks' data differ in {what} " +
                    $"(rank by rank: {string.Join(", ", all)}); every rank's data must have the same schema.");
        }

        /// <summary>Every rank's count.</summary>
        internal long[] PerRank(long local) => _comm.GatherDoubles(new[] { (double)local }).Select(v => (long)v[0]).ToArray();

        /// <summary>The counts summed over the ranks.</summary>
        internal long[] Sum(long[] local) => _comm.Sum(local.Select(v => (double)v).ToArray()).Select(v => (long)v).ToArray();

        /// <summary>Rank 0's preprocessing on every rank: rank 0 fits it (<paramref name="fit"/>) on its shard.</summary>
        internal MlpPreprocessing FromRank0(Func<MlpPreprocessing> fit)
        {
            byte[] bytes = null;
            if (Rank == 0)
            {
                var p = fit();
                using var buffer = new MemoryStream();
                using (var w = new BinaryWriter(buffer))
                {
                    w.Write(p.Outputs);
                    p.Save(w);
                }
                bytes = buffer.ToArray();
            }
            bytes = _comm.BroadcastBytes(bytes);
            using var r = new BinaryReader(new MemoryStream(bytes));
            int outputs = r.ReadInt32();
            return MlpPreprocessing.Load(r, outputs);
        }

        /// <summary>The weighted mean and variance of the targets of all ranks' rows: each rank's (weight, mean, M2)
        /// combined in rank order (Chan et al.'s pairwise update).</summary>
        internal (double Mean, double Variance) Moments(TrainingSet set, int[] rows)
        {
            var (sw, mean, m2) = TargetScaling.Accumulate(set, rows);
            double tw = 0, tmean = 0, tm2 = 0;
            foreach (var part in _comm.GatherDoubles(new[] { sw, mean, m2 }))
            {
                if (part[0] <= 0) continue;
                double total = tw + part[0], delta = part[1] - tmean;
                tmean += delta * part[0] / total;
                tm2 += part[2] + delta * delta * tw * part[0] / total;
                tw = total;
            }
            return (tmean, tw > 0 ? tm2 / tw : 0);
        }

        /// <summary>[minimum, maximum] over the ranks of their targets' ranges (null when no rank has any).</summary>
        internal float[] Range(float[] local)
        {
            var parts = _comm.GatherDoubles(local == null ? new[] { double.NaN, double.NaN } : new double[] { local[0], local[1] });
            var present = parts.Where(p => !double.IsNaN(p[0])).ToArray();
            return present.Length == 0 ? null : new[] { (float)present.Min(p => p[0]), (float)present.Max(p => p[1]) };
        }
    }
}
