using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML.Runtime;
using MlNetMlp.Interop;

namespace MlNetMlp.Training
{
    internal sealed partial class MlpTrainingLoop
    {
        /// <summary>With a communicator of more than one rank: checks that the data can be trained data-parallel and
        /// gives every rank rank 0's initial weights (before the trainers copy them). Null for one process.</summary>
        private DataParallel StartDataParallel(MlpNetwork[] networks, RowSelection train)
        {
            var comm = _options.Communicator;
            if (comm == null || comm.Size == 1)
                return null;
            if (comm.Rank < 0 || comm.Rank >= comm.Size)
                throw _ch.Except($"Communicator: rank {comm.Rank} is outside [0, {comm.Size}).");
            if (train.Set is StreamingTrainingSet)
                throw _ch.ExceptNotSupp("Communicator: data-parallel training supports data held in memory in this release; these data " +
                    "are streamed (use DataMode = InMemory).");
            var ranks = new DataParallel(comm);
            ranks.BroadcastWeights(networks);
            _ch.Info($"Data-parallel training: rank {comm.Rank} of {comm.Size}, a share of every global minibatch of {_plan.BatchSize} rows.");
            return ranks;
        }

        /// <summary>One epoch of synchronous data-parallel training: every rank shuffles the same order (the shared
        /// seed), takes its share of each global minibatch, computes the members' gradients, and applies the sums of
        /// one fused allreduce; the epoch's losses are reduced at the end.</summary>
        private void RunDataParallelEpoch(Member[] members, TrainingSet set, DataParallel ranks, ParallelOptions parallel)
        {
            int count = members.Length, batch = _plan.BatchSize, n = members[0].Order.Length;
            if (_options.Shuffle)
                foreach (var m in members)
                    m.Random.Shuffle(m.Order);
            var trainers = members.Select(m => m.Trainer).ToArray();
            var losses = new double[count];
            for (int start = 0; start < n; start += batch)
            {
                int rows = Math.Min(batch, n - start);
                var (first, local) = ranks.Share(rows);
                void Compute(int index)
                {
                    var m = members[index];
                    BeforeStep(m);
                    if (local == 0)
                        return;
                    try
                    {
                        losses[index] += set.Step(m.Trainer, m.Order.AsSpan(start + first, local), update: false) * local;
                    }
                    catch (InvalidOperationException e) when (Native.IsNotFinite(e))
                    {
                        // every rank must learn of it in the allreduce, where the NaN stops them all before the update
                        DataParallel.Gradient(m.Trainer)[0] = float.NaN;
                    }
                }
                if (count == 1)
                    Compute(0);
                else
                    SideBySide.For(count, parallel, Compute);
                if (set.IsSparse)
                    ranks.AllReduceAndApplySparse(trainers, local, rows, members[0].Network.Sizes[0], members[0].Network.Sizes[1]);
                else
                    ranks.AllReduceAndApply(trainers, local, rows);
            }
            ranks.Sum(losses);
            for (int m = 0; m < count; m++)
                members[m].LossSum = losses[m];
        }
    }
}
