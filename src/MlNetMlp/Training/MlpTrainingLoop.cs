using System;
using System.Collections.Generic;
using System.Diagnostics;
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
    internal sealed unsafe class MlpTrainingLoop
    {
        private readonly MlpTrainerOptionsBase _options;
        private readonly IHost _host;
        private readonly IChannel _ch;
        private readonly bool _isRegression;

        internal MlpTrainingLoop(MlpTrainerOptionsBase options, IHost host, IChannel ch, bool isRegression)
        {
            _options = options;
            _host = host;
            _ch = ch;
            _isRegression = isRegression;
        }

        /// <summary>Trains <paramref name="network"/> in place and returns the epoch reports.</summary>
        internal List<MlpEpochReport> Run(MlpNetwork network, RowSelection train, RowSelection validation, int seed)
        {
            var history = new List<MlpEpochReport>();
            int batch = Math.Min(_options.BatchSize, train.Rows.Length);
            var config = new NativeMethods.TrainConfig
            {
                StructSize = sizeof(NativeMethods.TrainConfig),
                Optimizer = (int)_options.Optimizer,
                LearningRate = _options.LearningRate,
                Momentum = _options.Optimizer == MlpOptimizer.Sgd ? _options.Momentum : 0f,
                Nesterov = _options.NesterovMomentum ? 1 : 0,
                Beta1 = 0.9f,
                Beta2 = 0.999f,
                Epsilon = 1e-8f,
                L2 = _options.L2Regularization,
                WeightDecay = _options.WeightDecay,
                MaxBatchRows = batch,
                NumThreads = _options.NumberOfThreads ?? 0,
                DropoutRate = _options.DropoutRate,
                Seed = (ulong)(uint)seed,
            };
            Native.Check(NativeMethods.mlp_trainer_create(network.Handle, config, out var trainer));
            using (trainer)
            {
                trainer.KeepAlive(network.Handle);
                var order = (int[])train.Rows.Clone();
                var random = new Random(seed);
                var clock = Stopwatch.StartNew();
                double bestLoss = double.PositiveInfinity;
                int bestEpoch = 0;
                (float[] W, float[] B)[] best = null;
                bool earlyStopping = _options.EarlyStoppingPatience > 0 && !validation.IsEmpty;
                double targetVariance = double.NaN; // the denominator of R²
                if (_isRegression && !validation.IsEmpty)
                {
                    double v = TargetScaling.Moments(validation.Set, validation.Rows).Variance;
                    targetVariance = v > 0 ? v : double.NaN;
                }
                var schedule = new LearningRateSchedule(_options, (long)_options.NumberOfEpochs * ((order.Length + batch - 1) / batch));

                for (int epoch = 1; epoch <= _options.NumberOfEpochs; epoch++)
                {
                    if (_options.Shuffle)
                        random.Shuffle(order);
                    double lossSum = 0;
                    for (int start = 0; start < order.Length; start += batch)
                    {
                        _options.CancellationToken.ThrowIfCancellationRequested();
                        _host.CheckAlive();
                        if (schedule.NextStep())
                            Native.Check(NativeMethods.mlp_trainer_set_learning_rate(trainer, schedule.Current));
                        int rows = Math.Min(batch, order.Length - start);
                        lossSum += Step(trainer, train.Set, order.AsSpan(start, rows)) * rows;
                    }
                    double validationLoss = double.NaN, validationMetric = double.NaN;
                    if (!validation.IsEmpty)
                    {
                        var (loss, metric, weight) = Evaluate(trainer, validation);
                        validationLoss = loss / weight;
                        validationMetric = _isRegression ? 1 - metric / weight / targetVariance : metric / weight;
                    }
                    var report = new MlpEpochReport(epoch, _options.NumberOfEpochs, lossSum / order.Length, validationLoss,
                        validationMetric, schedule.Current, clock.Elapsed);
                    if (schedule.EndEpoch(double.IsNaN(validationLoss) ? report.TrainingLoss : validationLoss))
                        _ch.Info($"Validation loss has not improved for {LearningRateSchedule.PlateauPatience} epochs: learning rate lowered to {schedule.Current:G3}.");
                    history.Add(report);
                    _ch.Info(report.ToString());
                    _options.EpochCallback?.Invoke(report);

                    if (earlyStopping)
                    {
                        if (validationLoss < bestLoss)
                        {
                            bestLoss = validationLoss;
                            bestEpoch = epoch;
                            best = Snapshot(network);
                        }
                        else if (epoch - bestEpoch >= _options.EarlyStoppingPatience)
                        {
                            _ch.Info($"Early stopping after epoch {epoch}: validation loss has not improved for " +
                                $"{_options.EarlyStoppingPatience} epochs; restoring the weights of epoch {bestEpoch}.");
                            break;
                        }
                    }
                }
                if (best != null)
                    for (int l = 0; l < best.Length; l++)
                        network.SetLayer(l, best[l].W, best[l].B);
            }
            Native.Check(NativeMethods.mlp_network_all_finite(network.Handle, out int finite));
            if (finite == 0)
                throw _ch.Except("Training produced non-finite weights: the learning rate is probably too high or the features are not normalized.");
            return history;
        }

        private static double Step(TrainerHandle trainer, TrainingSet set, Span<int> rows)
        {
            double loss;
            fixed (int* idx = rows)
            fixed (int* labels = set.Labels)
            fixed (float* targets = set.Targets)
            fixed (float* weights = set.Weights)
                Native.Check(NativeMethods.mlp_trainer_step(trainer, set.Features, set.Columns, set.Rows, idx, rows.Length,
                    labels, targets, weights, 1, out loss));
            return loss;
        }

        private static (double Loss, double Metric, double Weight) Evaluate(TrainerHandle trainer, RowSelection selection)
        {
            var set = selection.Set;
            double loss, metric, weight;
            fixed (int* idx = selection.Rows)
            fixed (int* labels = set.Labels)
            fixed (float* targets = set.Targets)
            fixed (float* weights = set.Weights)
                Native.Check(NativeMethods.mlp_trainer_evaluate(trainer, set.Features, set.Columns, set.Rows, idx, selection.Rows.Length,
                    labels, targets, weights, out loss, out metric, out weight));
            return (loss, metric, weight);
        }

        private static (float[] W, float[] B)[] Snapshot(MlpNetwork network)
        {
            var layers = new (float[] W, float[] B)[network.LayerCount];
            for (int l = 0; l < layers.Length; l++)
            {
                layers[l] = (new float[network.WeightCount(l)], new float[network.Sizes[l + 1]]);
                network.GetLayer(l, layers[l].W, layers[l].B);
            }
            return layers;
        }
    }
}
