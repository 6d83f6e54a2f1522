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
            if (train.Set is StreamingTrainingSet && _shards == null)
                throw _ch.ExceptNotSupp("Communicator: streamed data are trained data-parallel when every rank streams its own shard: set " +
                    "DataSharding = ByRowId (or PrePartitioned), or DataMode = InMemory.");
            var ranks = new DataParallel(comm, _shards?.PerRank(train.Rows.Length));
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
            foreach (var (offset, local, rows) in ranks.Steps(n, batch))
            {
                void Compute(int index)
                {
                    var m = members[index];
                    BeforeStep(m);
                    if (local == 0)
                        return;
                    try
                    {
                        losses[index] += set.Step(m.Trainer, m.Order.AsSpan(offset, local), update: false) * local;
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
                Exchange(members, ranks, set.IsSparse, local, rows);
            }
            ranks.Sum(losses);
            for (int m = 0; m < count; m++)
                members[m].LossSum = losses[m];
        }

        /// <summary>The allreduce of one global minibatch's gradients and the update (dense or row-sparse first layer).</summary>
        private static void Exchange(Member[] members, DataParallel ranks, bool sparse, int local, int rows)
        {
            var trainers = members.Select(m => m.Trainer).ToArray();
            if (sparse)
                ranks.AllReduceAndApplySparse(trainers, local, rows, members[0].Network.Sizes[0], members[0].Network.Sizes[1]);
            else
                ranks.AllReduceAndApply(trainers, local, rows);
        }

        /// <summary>One epoch of sharded data-parallel training on streamed rows: every rank streams its own shard in
        /// minibatches of its share of each global batch, computes the members' gradients, and joins the allreduce of
        /// every global batch (with no rows once its shard is done).</summary>
        private void RunStreamedDataParallelEpoch(Member[] members, StreamingTrainingSet set, DataParallel ranks, int seed, ParallelOptions parallel)
        {
            int count = members.Length;
            var steps = ranks.Steps(set.Rows, _plan.BatchSize).ToArray();
            var losses = new double[count];
            set.BatchSize = Math.Max(1, steps.Length == 0 ? 1 : steps.Max(s => s.Local));
            int step = 0;
            void Global(int local, int rows)
            {
                Exchange(members, ranks, set.IsSparse, local, rows);
                step++;
            }
            set.ComputeEpoch(members.Length, (m, batch) =>
            {
                if (batch.Rows != steps[step].Local)
                    throw new InvalidOperationException($"Rank {ranks.Rank} streamed a minibatch of {batch.Rows} rows where its share is " +
                        $"{steps[step].Local}: the data changed since they were counted.");
                BeforeStep(members[m]);
                try
                {
                    losses[m] += set.StepBatch(members[m].Trainer, batch, update: false) * batch.Rows;
                }
                catch (InvalidOperationException e) when (Native.IsNotFinite(e))
                {
                    DataParallel.Gradient(members[m].Trainer)[0] = float.NaN;
                }
            }, () => Global(steps[step].Local, steps[step].Global), _options.Shuffle, seed, parallel, _options.CancellationToken);
            // this rank's shard is done: it joins the remaining global batches with no rows
            while (step < steps.Length)
            {
                foreach (var m in members)
                    BeforeStep(m);
                Global(0, steps[step].Global);
            }
            ranks.Sum(losses);
            for (int m = 0; m < count; m++)
                members[m].LossSum = losses[m];
        }
    }
}
