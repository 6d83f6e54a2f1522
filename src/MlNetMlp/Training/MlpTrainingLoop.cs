using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML.Runtime;
using MlNetMlp.Interop;

namespace MlNetMlp.Training
{
    /// <summary>Rows of a <see cref="TrainingSet"/> selected for one role (training or validation).</summary>
    internal readonly struct RowSelection
    {
        internal RowSelection(TrainingSet set, int[] rows)
        {
            Set = set;
            Rows = rows;
        }

        internal TrainingSet Set { get; }
        internal int[] Rows { get; }
        internal bool IsEmpty => Set == null || Rows.Length == 0;
    }

    /// <summary>The epoch loop shared by the MlNetMlp trainers: shuffling, minibatches, validation, early stopping,
    /// reports and cancellation. C# only orchestrates; every arithmetic step runs in the native trainer.</summary>
    internal sealed unsafe partial class MlpTrainingLoop
    {
        private readonly MlpTrainerOptionsBase _options;
        private readonly TrainingPlan _plan;
        private readonly IHost _host;
        private readonly IChannel _ch;
        private readonly bool _isRegression;
        private readonly DataShards _shards;

        internal MlpTrainingLoop(MlpTrainerOptionsBase options, TrainingPlan plan, IHost host, IChannel ch, bool isRegression, DataShards shards = null)
        {
            _shards = shards;
            _options = options;
            _plan = plan;
            _host = host;
            _ch = ch;
            _isRegression = isRegression;
        }

        /// <summary>One member's trainer and its own minibatch order and schedule.</summary>
        private sealed class Member : IDisposable
        {
            internal MlpNetwork Network;
            internal TrainerHandle Trainer;
            internal int[] Order;
            internal Random Random;
            internal LearningRateSchedule Schedule;
            internal double LossSum;

            public void Dispose() => Trainer?.Dispose();
        }

        /// <summary>Trains the <paramref name="networks"/> (an ensemble's members, or one network) in place, epoch by
        /// epoch in lockstep, and returns the epoch reports. Members differ in their initial weights (set by the
        /// caller) and minibatch order; with several, each runs on one thread and the members run side by side.</summary>
        internal List<MlpEpochReport> Run(MlpNetwork[] networks, RowSelection train, RowSelection validation, int seed)
        {
            var history = new List<MlpEpochReport>();
            int epochs = _plan.Epochs, count = networks.Length;
            int threads = _options.NumberOfThreads ?? Environment.ProcessorCount;
            var members = new Member[count];
            var ranks = StartDataParallel(networks, train);
            // the minibatches of an epoch: of all ranks' rows when sharded
            long totalRows = ranks?.TotalRows ?? train.Rows.Length;
            long steps = (totalRows + _plan.BatchSize - 1) / _plan.BatchSize;
            try
            {
                for (int m = 0; m < count; m++)
                    members[m] = CreateMember(networks[m], train, seed, m, count > 1 ? 1 : _options.NumberOfThreads ?? 0, ranks, steps);
                var best = new BestEpoch(byError: !_isRegression);
                var evaluation = ValidationEvaluator.Create(validation, _isRegression, networks[0], ranks, _shards);
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(threads, count)) };

                var streamed = train.Set as StreamingTrainingSet;
                if (streamed != null)
                    streamed.BatchSize = _plan.BatchSize;
                string fingerprint = WritesCheckpoints ? CheckpointFingerprint(networks, totalRows, train, seed, ranks) : null;
                var resumed = ResumeFromCheckpoint(fingerprint, members, history, best, ranks, streamed);
                var clock = Stopwatch.StartNew();
                var trainers = members.Select(m => m.Trainer).ToArray();
                var streamedLoss = new double[count];
                for (int epoch = resumed.EpochsDone + 1; epoch <= epochs && !resumed.Finished; epoch++)
                {
                    if (streamed != null && ranks != null)
                        RunStreamedDataParallelEpoch(members, streamed, ranks, seed, parallel);
                    else if (streamed != null)
                    {
                        // one cursor pass: every member steps on every minibatch as it arrives
                        streamed.TrainEpoch(trainers, m => BeforeStep(members[m]), streamedLoss, _options.Shuffle, seed, parallel, _options.CancellationToken);
                        for (int m = 0; m < count; m++)
                            members[m].LossSum = streamedLoss[m];
                    }
                    else if (ranks != null)
                        RunDataParallelEpoch(members, train.Set, ranks, parallel);
                    else if (count == 1)
                        RunEpoch(members[0], train.Set);
                    else
                        SideBySide.For(count, parallel, m => RunEpoch(members[m], train.Set));
                    double validationLoss = double.NaN, validationMetric = double.NaN;
                    if (evaluation != null)
                        (validationLoss, validationMetric) = count == 1
                            ? evaluation.Single(members[0].Trainer)
                            : evaluation.Ensemble(networks, threads);
                    var schedule = members[0].Schedule;
                    double trainingLoss = members.Sum(m => m.LossSum) / count / totalRows;
                    var report = new MlpEpochReport(epoch, epochs, trainingLoss, validationLoss, validationMetric, schedule.Current, resumed.Elapsed + clock.Elapsed);
                    bool lowered = false;
                    foreach (var m in members)
                        lowered |= m.Schedule.EndEpoch(double.IsNaN(validationLoss) ? report.TrainingLoss : validationLoss);
                    if (lowered)
                        _ch.Info($"Validation loss has not improved for {LearningRateSchedule.PlateauPatience} epochs: learning rate lowered to {schedule.Current:G3}.");
                    history.Add(report);
                    _ch.Info(report.ToString());
                    _options.EpochCallback?.Invoke(report);

                    bool stopping = false;
                    if (_plan.RestoreBest)
                    {
                        SyncLazyUpdates(members);
                        best.Offer(epoch, _isRegression ? 0 : 1 - validationMetric, validationLoss, networks);
                        stopping = _plan.Patience > 0 && epoch - best.Epoch >= _plan.Patience && epoch < epochs;
                    }
                    if (ChecksPoint(epoch, stopping || epoch == epochs))
                        WriteCheckpoint(fingerprint, members, epoch, stopping || epoch == epochs, report.Elapsed, history, best, ranks);
                    if (stopping)
                    {
                        _ch.Info($"Early stopping after epoch {epoch}: the validation {(_isRegression ? "loss" : "error")} has not improved " +
                            $"for {_plan.Patience} epochs.");
                        break;
                    }
                }
                SyncLazyUpdates(members);
                if (_plan.RestoreBest && best.Epoch > 0)
                {
                    if (best.Epoch != history.Count)
                        _ch.Info($"Restoring the weights of epoch {best.Epoch}, the best on the validation data.");
                    best.Restore(networks);
                }
            }
            finally
            {
                foreach (var m in members)
                    m?.Dispose();
            }
            foreach (var network in networks)
            {
                Native.Check(NativeMethods.mlp_network_all_finite(network.Handle, out int finite));
                if (finite == 0)
                    throw _ch.Except("Training produced non-finite weights: the learning rate is probably too high or the features are not normalized.");
            }
            return history;
        }

        private Member CreateMember(MlpNetwork network, RowSelection train, int seed, int index, int threads, DataParallel ranks, long steps)
        {
            int batch = _plan.BatchSize, rank = ranks?.Rank ?? 0;
            // member 0 shuffles as a single network does; the others with seeds of their own; sharded, every rank its shard
            int shuffleSeed = index == 0 ? seed : (int)(uint)MemberSeeds.For(seed, index, MemberSeeds.Stream.Shuffle);
            if (ranks?.IsSharded == true)
                shuffleSeed ^= (int)(uint)MemberSeeds.For(seed, rank + 1, MemberSeeds.Stream.Shuffle);
            var member = new Member
            {
                Network = network,
                Order = (int[])train.Rows.Clone(),
                Random = new Random(shuffleSeed),
                Schedule = new LearningRateSchedule(_options.LearningRateSchedule, _plan.LearningRate, _plan.Epochs * steps),
            };
            var config = new NativeMethods.TrainConfig
            {
                StructSize = sizeof(NativeMethods.TrainConfig),
                Optimizer = (int)_options.Optimizer,
                LearningRate = member.Schedule.Current,
                Momentum = _options.Optimizer == MlpOptimizer.Sgd ? _options.Momentum : 0f,
                Nesterov = _options.NesterovMomentum ? 1 : 0,
                Beta1 = 0.9f,
                Beta2 = _options.AdamBeta2,
                Epsilon = 1e-8f,
                L2 = _options.L2Regularization,
                WeightDecay = _options.WeightDecay,
                MaxBatchRows = batch,
                NumThreads = threads,
                DropoutRate = _options.DropoutRate,
                LabelSmoothing = _plan.LabelSmoothing,
                // each rank its own dropout masks (rank 0 the single process's)
                Seed = MemberSeeds.For(seed, index, MemberSeeds.Stream.Dropout) ^ ((ulong)rank * 0x9E3779B97F4A7C15ul),
                InputScale = _plan.InputScale ? 1 : 0,
                InputScaleRate = _plan.InputScaleRate,
                SparseInput = train.Set.IsSparse ? 1 : 0,
                Precision = (int)EffectivePrecision(),
            };
            Native.Check(NativeMethods.mlp_trainer_create(network.Handle, config, out var trainer));
            member.Trainer = trainer;
            trainer.KeepAlive(network.Handle);
            var (weightRates, biasRates) = _plan.RateFactors(network.Sizes);
            fixed (float* w = weightRates)
            fixed (float* b = biasRates)
                Native.Check(NativeMethods.mlp_trainer_set_rate_factors(trainer, network.LayerCount, w, b));
            return member;
        }

        private bool _precisionLogged;

        /// <summary>The precision the trainers run in: BFloat16 only where the CPU has AVX512_BF16 (said once in the log).</summary>
        private MlpPrecision EffectivePrecision()
        {
            var wanted = _options.Precision;
            bool available = wanted != MlpPrecision.BFloat16 || NativeMethods.mlp_has_bfloat16() != 0;
            if (!_precisionLogged && wanted == MlpPrecision.BFloat16)
            {
                if (available)
                    _ch.Info("Precision BFloat16: the training GEMMs run on bfloat16 copies with float32 accumulation (AVX512_BF16).");
                else
                    _ch.Warning("Precision BFloat16 needs AVX512_BF16, which this CPU lacks (or MLNETMLP_ISA caps the kernels below " +
                        "AVX-512): training in Float32.");
                _precisionLogged = true;
            }
            return available ? wanted : MlpPrecision.Float32;
        }

        /// <summary>Sparse training updates first-layer rows lazily: bring every row up to date before the weights are read.</summary>
        private static void SyncLazyUpdates(Member[] members)
        {
            foreach (var m in members)
                Native.Check(NativeMethods.mlp_trainer_sync(m.Trainer));
        }

        /// <summary>Before each minibatch: cancellation, then the schedule's rate for the step.</summary>
        private void BeforeStep(Member m)
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            _host.CheckAlive();
            if (m.Schedule.NextStep())
                Native.Check(NativeMethods.mlp_trainer_set_learning_rate(m.Trainer, m.Schedule.Current));
        }

        /// <summary>One pass over the member's training rows in minibatches.</summary>
        private void RunEpoch(Member m, TrainingSet set)
        {
            if (_options.Shuffle)
                m.Random.Shuffle(m.Order);
            int batch = _plan.BatchSize;
            double lossSum = 0;
            for (int start = 0; start < m.Order.Length; start += batch)
            {
                BeforeStep(m);
                int rows = Math.Min(batch, m.Order.Length - start);
                lossSum += set.Step(m.Trainer, m.Order.AsSpan(start, rows)) * rows;
            }
            m.LossSum = lossSum;
        }

    }
}
