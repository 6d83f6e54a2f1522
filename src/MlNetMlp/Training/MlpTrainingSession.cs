using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>What distinguishes the three trainers inside the shared training session.</summary>
    internal sealed class TrainingTask
    {
        internal LabelKind LabelKind { get; init; }
        /// <summary>Number of classes for key labels (0 otherwise).</summary>
        internal int ClassCount { get; init; }
        /// <summary>Width of the output layer.</summary>
        internal int Outputs { get; init; }
        /// <summary>Native loss id (NativeMethods.Loss*).</summary>
        internal int Loss { get; init; }
        internal bool IsRegression => LabelKind == LabelKind.Real;
    }

    /// <summary>The training flow shared by the MlNetMlp trainers: read the data, hold out validation rows, build
    /// (or warm-start) the network, run the epochs, and hand back the network and its history.</summary>
    internal static class MlpTrainingSession
    {
        internal sealed class Result
        {
            internal MlpEnsemble Ensemble { get; init; }
            internal MlpPreprocessing Preprocessing { get; init; }
            /// <summary>Regression: [minimum, maximum] of the training rows' targets (positive weight).</summary>
            internal float[] TargetRange { get; init; }
            internal List<MlpEpochReport> History { get; init; }
        }

        /// <summary>Trains a network (or an ensemble) for <paramref name="task"/>; <paramref name="finish"/> is called with
        /// the trained ensemble and the training rows while the data is still in memory (e.g. to fit a calibrator).</summary>
        internal static Result Run(IHost host, MlpTrainerOptionsBase options, TrainContext context, TrainingTask task,
            Action<MlpEnsemble, RowSelection, IChannel> finish = null)
        {
            host.CheckValue(context, nameof(context));
            using var ch = host.Start("Training");
            int seed = options.Seed ?? host.Rand.Next();
            // a warm-start model whose preprocessing moves zero (centres, indicators) needs dense rows
            bool? sparse = context.InitialPredictor != null && WarmPreprocessing(context.InitialPredictor, ch) is { KeepsZeros: false } ? false : null;
            var shards = DataShards.Create(options);
            if (shards == null && options.DataSharding != MlpDataSharding.Replicated)
                ch.Info($"DataSharding {options.DataSharding} has no effect without a Communicator of several ranks: every row is read.");
            var (trainSet, validationSet) = ReadData(options, context, task, host, ch, sparse, seed, shards);
            using var train = trainSet;
            using var validSet = validationSet;
            shards?.RequireSame("the number of feature columns", train.Columns, ch);
            shards?.RequireSame("the number of classes", task.ClassCount, ch);
            var (trainRows, validRows) = train is StreamingTrainingSet
                ? (All(train), validSet != null ? All(validSet) : default)
                : Select(train, validSet, options, task, seed);
            // sharded: the plan is the whole training set's, whatever this rank's share
            var (totalTrain, totalValid) = shards == null ? (trainRows.Rows.Length, validRows.IsEmpty ? 0 : validRows.Rows.Length)
                : (Total(shards.PerRank(trainRows.Rows.Length)), Total(shards.PerRank(validRows.IsEmpty ? 0 : validRows.Rows.Length)));
            if (shards != null)
                ch.Info($"Sharded data ({shards.Mode}): rank {shards.Rank} of {shards.Size} holds {trainRows.Rows.Length} of the {totalTrain} training rows" +
                    (totalValid > 0 ? $" and {(validRows.IsEmpty ? 0 : validRows.Rows.Length)} of the {totalValid} validation rows." : "."));
            if (options.EarlyStoppingPatience > 0 && totalValid == 0)
                ch.Warning("EarlyStoppingPatience is set but there is no validation data (set ValidationFraction or pass a " +
                    "validation set to Fit): early stopping is off.");
            var plan = TrainingPlan.Create(options, task, totalTrain, totalValid > 0, train.IsSparse, train.Columns);
            if (!task.IsRegression)
                CheckTwoClasses(train, trainRows, context.TrainingSet.Schema.Label.Value.Name, ch, shards);
            var preprocessing = Preprocess(options, context.InitialPredictor, train, validSet, trainRows, seed, ch, shards);

            // Regression targets are standardized for training (any magnitude trains with the same learning rate);
            // the scaling is folded into the output layer afterwards, so the model predicts in the label's units.
            var scaling = task.IsRegression ? TargetScaling.Of(train, trainRows.Rows, shards) : TargetScaling.Identity;
            var targetRange = task.IsRegression ? TargetScaling.Range(train, trainRows.Rows, shards) : null;
            scaling.Apply(train);
            if (validSet != null) scaling.Apply(validSet);
            (train as StreamingTrainingSet)?.SetTargetScaling(scaling);
            (validSet as StreamingTrainingSet)?.SetTargetScaling(scaling);

            var networks = CreateNetworks(options, plan, context.InitialPredictor, train.Columns, task, seed, ch);
            if (context.InitialPredictor != null)
                foreach (var n in networks)
                    scaling.Unfold(n); // a warm-start model predicts in label units
            var network = networks[0];
            ch.Info($"Training an MLP {string.Join("-", network.LayerSizes)} ({network.Activation}, {network.ParameterCount} parameters)" +
                (networks.Length > 1 ? $" x {networks.Length} ensemble members" : "") + $" on {totalTrain} rows" +
                (totalValid == 0 ? "" : $", validating on {totalValid}") + $": {plan.Describe(totalTrain)}; native kernels: {Native.Isa}.");
            var history = new MlpTrainingLoop(options, plan, host, ch, task.IsRegression, shards).Run(networks, trainRows, validRows, seed);
            foreach (var n in networks)
                scaling.Fold(n);
            var ensemble = new MlpEnsemble(networks);
            finish?.Invoke(ensemble, trainRows, ch);
            return new Result { Ensemble = ensemble, Preprocessing = preprocessing, History = history, TargetRange = targetRange };
        }

        private static int Total(long[] perRank) => checked((int)perRank.Sum());

        private static RowSelection All(TrainingSet set) => new RowSelection(set, Enumerable.Range(0, set.Rows).ToArray());

        /// <summary>The training (and validation) rows, in memory or streamed (<see cref="MlpDataMode"/>): Auto keeps the
        /// in-memory copy when it fits <see cref="TrainingSet.InMemoryBudgetBytes"/> and streams otherwise, deciding from
        /// the row count and the measured density when the count is known, and by stopping the read when it is not.</summary>
        private static (TrainingSet Train, TrainingSet Validation) ReadData(MlpTrainerOptionsBase options, TrainContext context, TrainingTask task,
            IHost host, IChannel ch, bool? sparse, int seed, DataShards shards)
        {
            var (train, valid) = ReadShard(options, context, task, host, ch, sparse, seed, shards);
            if (shards != null && !shards.Agree(train is StreamingTrainingSet))
            {
                train.Dispose();
                valid?.Dispose();
                throw ch.Except("Sharded data-parallel training: DataMode Auto kept the rows in memory on some ranks and streamed them on " +
                    "others; every rank must do the same: set DataMode to InMemory or Streaming.");
            }
            return (train, valid);
        }

        private static (TrainingSet Train, TrainingSet Validation) ReadShard(MlpTrainerOptionsBase options, TrainContext context, TrainingTask task,
            IHost host, IChannel ch, bool? sparse, int seed, DataShards shards)
        {
            var data = context.TrainingSet;
            // sharded: this rank's rows only; the storage (dense or CSR) the same on every rank
            var include = shards?.Include;
            int share = shards?.ReadShare ?? 1;
            data.CheckFeatureFloatVector(out int columns);
            bool stream = options.DataMode == MlpDataMode.Streaming;
            long budget = options.DataMode == MlpDataMode.Auto ? TrainingSet.InMemoryBudgetBytes : long.MaxValue;
            double density = sparse == false ? 1 : TrainingSet.ProbeDensity(data, columns);
            bool csr = sparse ?? TrainingSet.SparseAt(density);
            if (shards != null && sparse == null)
                csr = shards.Any(csr);
            if (csr && sparse == null)
                ch.Info($"The training features are sparse ({density:P1} of the {columns} values of the first rows are non-zero, at most " +
                    $"{TrainingSet.SparseDensityThreshold:P0} uses CSR storage).");
            long? rows = data.Data.GetRowCount() / share;
            if (!stream && options.DataMode == MlpDataMode.Auto && rows.HasValue)
            {
                double estimate = csr ? rows.Value * density * columns * (sizeof(int) + sizeof(float)) : (double)rows.Value * columns * sizeof(float);
                if (estimate > budget)
                {
                    ch.Info($"DataMode Auto: the in-memory copy of {rows.Value} rows would take about {estimate / 1048576:F0} MB, more than the " +
                        $"budget of {budget / 1048576} MB (a quarter of the available memory): streaming the rows instead.");
                    stream = true;
                }
            }
            if (!stream)
            {
                try
                {
                    var train = TrainingSet.Read(data, task.LabelKind, task.ClassCount, host, ch, "training", csr, budget, include, share);
                    if (train.IsSparse)
                        ch.Info($"{train.StoredValues} non-zero values in {train.Rows} rows, CSR storage.");
                    if (options.DataMode == MlpDataMode.Auto)
                        ch.Info($"DataMode Auto: {train.Rows} training rows in memory ({(train.IsSparse ? train.StoredValues * 8 : train.StoredValues * 4) / 1048576} MB, " +
                            $"budget {budget / 1048576} MB).");
                    var valid = context.ValidationSet != null // the same storage: the trainer takes one kind of batch
                        ? TrainingSet.Read(context.ValidationSet, task.LabelKind, task.ClassCount, host, ch, "validation", train.IsSparse, include: include, expectedShare: share) : null;
                    return (train, valid);
                }
                catch (TrainingSet.BudgetExceededException e)
                {
                    ch.Info($"DataMode Auto: the in-memory copy passed {e.Bytes / 1048576} MB while reading, more than the budget of " +
                        $"{budget / 1048576} MB: streaming the rows instead.");
                }
            }
            // streamed: the hold-out is a hash of the row id (stable under shuffling), the same for both parts
            float fraction = context.ValidationSet == null ? TrainingPlan.ValidationFraction(options) : 0;
            Func<DataViewRowId, bool> isValidation = id => HeldOut(id, seed, fraction);
            Func<DataViewRowId, bool> isTraining = fraction > 0 ? id => !isValidation(id) : null;
            var streamed = StreamingTrainingSet.Read(data, task.LabelKind, task.ClassCount, host, ch, "training", csr, options.ShufflePoolRows,
                Both(include, isTraining), seed);
            if (!streamed.CanShuffle && options.Shuffle && options.ShufflePoolRows == 0)
                ch.Warning("The training data cannot shuffle itself (cache it with mlContext.Data.Cache or save it with SaveAsBinary) and " +
                    "ShufflePoolRows is 0: every epoch sees the rows in the same order.");
            ch.Info($"Streaming {streamed.Rows} training rows ({(csr ? "CSR" : "dense")} minibatches): " +
                (streamed.CanShuffle ? "the view shuffles itself every epoch." : $"shuffled through a pool of {options.ShufflePoolRows} rows."));
            TrainingSet validation = context.ValidationSet != null
                ? StreamingTrainingSet.Read(context.ValidationSet, task.LabelKind, task.ClassCount, host, ch, "validation", csr, 0, include, seed)
                : fraction > 0 ? StreamingTrainingSet.Read(data, task.LabelKind, task.ClassCount, host, ch, "validation", csr, 0, Both(include, isValidation), seed) : null;
            return (streamed, validation);
        }

        /// <summary>Rows both filters keep (a null filter keeps every row).</summary>
        private static Func<DataViewRowId, bool> Both(Func<DataViewRowId, bool> a, Func<DataViewRowId, bool> b) =>
            a == null ? b : b == null ? a : id => a(id) && b(id);

        /// <summary>Whether a streamed row belongs to the hold-out: a fixed mix of its id and the seed below the fraction.</summary>
        private static bool HeldOut(DataViewRowId id, int seed, float fraction)
        {
            ulong z = id.High * 0x9E3779B97F4A7C15ul ^ id.Low ^ (ulong)(uint)seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1ul << 53)) < fraction;
        }

        /// <summary>Fits the input preprocessing on the training rows (or takes the warm-start model's), applies it to
        /// the training and validation rows in place, and logs what was imputed.</summary>
        private static unsafe MlpPreprocessing Preprocess(MlpTrainerOptionsBase options, IPredictor initial, TrainingSet train, TrainingSet validSet,
            RowSelection trainRows, int seed, IChannel ch, DataShards shards)
        {
            MlpPreprocessing preprocessing;
            if (initial != null && WarmPreprocessing(initial, ch) is MlpPreprocessing warm)
            {
                if (warm.Inputs != train.Columns)
                    throw ch.ExceptParam(nameof(initial), $"Warm start needs the same features: the model reads {warm.Inputs} columns, the data has {train.Columns}.");
                preprocessing = warm;
            }
            else
            {
                // A model from before preprocessing existed takes the raw columns: impute only, so that its inputs keep
                // their meaning. Otherwise indicators go to every column with missing values in the data read.
                bool legacy = initial != null;
                // sharded: indicators for the columns with missing values on any rank, the rest fitted on rank 0's shard
                var missing = shards != null ? shards.Sum(train.MissingPerColumn) : train.MissingPerColumn;
                var indicators = legacy ? Array.Empty<int>() : Enumerable.Range(0, train.Columns).Where(j => missing[j] > 0).ToArray();
                if (train.IsSparse)
                    indicators = Array.Empty<int>(); // sparse rows: NaN counts as the implicit 0, zeros stay zero
                MlpPreprocessing Fit() => train.FitPreprocessing(trainRows.Rows, options.NormalizeFeatures && !legacy,
                    indicators, seed, options.NumberOfThreads ?? Environment.ProcessorCount);
                preprocessing = shards != null ? shards.FromRank0(Fit) : Fit();
            }
            long imputed = train.ApplyPreprocessing(preprocessing);
            long validImputed = validSet?.ApplyPreprocessing(preprocessing) ?? 0;
            if (imputed + validImputed > 0)
            {
                int columns = train.MissingPerColumn.Count(m => m > 0);
                ch.Info($"Imputed {imputed} missing (NaN or infinite) feature values in {columns} of {train.MissingPerColumn.Length} columns " +
                    $"of the training data{(validImputed > 0 ? $" and {validImputed} in the validation data" : "")} with the training median; " +
                    $"{preprocessing.IndicatorColumns.Length} missing-indicator inputs added.");
            }
            ch.Info(preprocessing.Normalizes
                ? "Features scaled by the trainer: centred on the median, divided by the interquartile range, smoothly clipped to (-3, 3)."
                : "Features used as given (NormalizeFeatures is off): scale them beforehand, e.g. with NormalizeMinMax.");
            return preprocessing;
        }

        private static (RowSelection Train, RowSelection Validation) Select(TrainingSet train, TrainingSet validSet,
            MlpTrainerOptionsBase options, TrainingTask task, int seed)
        {
            var all = Enumerable.Range(0, train.Rows).ToArray();
            if (validSet != null)
                return (new RowSelection(train, all), new RowSelection(validSet, Enumerable.Range(0, validSet.Rows).ToArray()));
            float fraction = TrainingPlan.ValidationFraction(options);
            if (fraction > 0)
            {
                // Stratified for classification: each class keeps its proportion in both parts.
                int[] strata = task.LabelKind switch
                {
                    LabelKind.Key => train.Labels,
                    LabelKind.Boolean => train.Targets.Select(t => t > 0.5f ? 1 : 0).ToArray(),
                    _ => null,
                };
                var (t, v) = DataSplit.Split(train.Rows, strata, fraction, seed);
                return (new RowSelection(train, t), new RowSelection(train, v));
            }
            return (new RowSelection(train, all), default);
        }

        private static void CheckTwoClasses(TrainingSet train, RowSelection rows, string labelName, IChannel ch, DataShards shards)
        {
            var present = train.Labels != null
                ? rows.Rows.Select(r => (long)train.Labels[r]).Distinct().ToArray()
                : rows.Rows.Select(r => train.Targets[r] > 0.5f ? 1L : 0L).Distinct().ToArray();
            int distinct = present.Length;
            if (shards != null)
            {
                // the classes of all shards: a presence count per class
                var counts = new long[present.Length == 0 ? 2 : Math.Max(2, (int)present.Max() + 1)];
                int width = checked((int)shards.PerRank(counts.Length).Max());
                Array.Resize(ref counts, width);
                foreach (var c in present) counts[c] = 1;
                distinct = shards.Sum(counts).Count(c => c > 0);
            }
            if (distinct < 2)
                throw ch.Except($"The training data has only {distinct} class in label column '{labelName}': a classifier needs at least two classes.");
        }

        /// <summary>The ensemble's members: fresh ones (member 0 drawn with the seed itself, so that one member is the
        /// plain MLP of that seed), or copies of the warm-start model's.</summary>
        private static MlpNetwork[] CreateNetworks(MlpTrainerOptionsBase options, TrainingPlan plan, IPredictor initial, int inputs, TrainingTask task, int seed, IChannel ch)
        {
            var sizes = new[] { inputs }.Concat(plan.HiddenLayerSizes).Append(task.Outputs).ToArray();
            if (initial == null)
            {
                return Enumerable.Range(0, plan.EnsembleSize).Select(m =>
                {
                    var network = new MlpNetwork(sizes, options.Activation, task.Loss);
                    network.Initialize(MemberSeeds.For(seed, m, MemberSeeds.Stream.Weights));
                    return network;
                }).ToArray();
            }
            var warm = WarmModel(initial, ch).Ensemble;
            var first = warm.First;
            if (!first.Sizes.SequenceEqual(sizes) || first.Activation != options.Activation || first.Loss != task.Loss)
                throw ch.ExceptParam(nameof(initial),
                    $"Warm start needs the same architecture: the model has layers {string.Join("-", first.LayerSizes)} ({first.Activation}), " +
                    $"the options and data give {string.Join("-", sizes)} ({options.Activation}){(first.Loss != task.Loss ? " and the loss differs" : "")}.");
            if (warm.Count != plan.EnsembleSize)
                throw ch.ExceptParam(nameof(initial), $"Warm start needs the same ensemble: the model has {warm.Count} members, EnsembleSize is {plan.EnsembleSize}.");
            return warm.Members.Select(m => m.Clone()).ToArray();
        }

        private static MlpPreprocessing WarmPreprocessing(IPredictor initial, IChannel ch) => WarmModel(initial, ch).Preprocessing;

        private static (MlpEnsemble Ensemble, MlpPreprocessing Preprocessing) WarmModel(IPredictor initial, IChannel ch) => initial switch
        {
            MlpModelParameters m => (m.Ensemble, m.Preprocessing),
            MlpRegressionModelParameters r => (r.Ensemble, r.Preprocessing),
            MlpBinaryModelParameters b => (b.Ensemble, b.Preprocessing),
            CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator> c => (c.SubModel.Ensemble, c.SubModel.Preprocessing),
            _ => throw ch.ExceptParam(nameof(initial), $"Warm start needs MlNetMlp model parameters, got {initial.GetType().Name}."),
        };
    }

    /// <summary>Affine standardization of regression targets: y' = (y - Mean) / Scale.</summary>
    internal readonly struct TargetScaling
    {
        private TargetScaling(double mean, double scale)
        {
            Mean = mean;
            Scale = scale;
        }

        internal static TargetScaling Identity => new TargetScaling(0, 1);

        internal double Mean { get; }
        internal double Scale { get; }

        /// <summary>Weighted mean and standard deviation of the targets of <paramref name="rows"/> (scale 1 when constant).</summary>
        internal static TargetScaling Of(TrainingSet set, int[] rows, DataShards shards = null)
        {
            var (mean, variance) = shards != null ? shards.Moments(set, rows) : Moments(set, rows);
            double std = Math.Sqrt(variance);
            return new TargetScaling(mean, std > 1e-12 * Math.Max(1, Math.Abs(mean)) ? std : 1);
        }

        /// <summary>[minimum, maximum] of the targets of <paramref name="rows"/> with a positive weight.</summary>
        internal static float[] Range(TrainingSet set, int[] rows, DataShards shards) =>
            shards != null ? shards.Range(Range(set, rows)) : Range(set, rows);

        internal static float[] Range(TrainingSet set, int[] rows)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (int r in rows)
            {
                if ((set.Weights?[r] ?? 1) <= 0) continue;
                lo = Math.Min(lo, set.Targets[r]);
                hi = Math.Max(hi, set.Targets[r]);
            }
            return lo <= hi ? new[] { lo, hi } : null;
        }

        /// <summary>Weighted mean and variance of the targets of <paramref name="rows"/>.</summary>
        internal static (double Mean, double Variance) Moments(TrainingSet set, int[] rows)
        {
            var (weight, mean, m2) = Accumulate(set, rows);
            return (mean, weight > 0 ? m2 / weight : 0);
        }

        /// <summary>The total weight, weighted mean and sum of squared deviations (M2) of the targets of
        /// <paramref name="rows"/> with a positive weight (West's one-pass update).</summary>
        internal static (double Weight, double Mean, double M2) Accumulate(TrainingSet set, int[] rows)
        {
            double sw = 0, mean = 0, m2 = 0;
            foreach (int r in rows)
            {
                double w = set.Weights?[r] ?? 1, y = set.Targets[r];
                if (w <= 0) continue;
                sw += w;
                double delta = y - mean;
                mean += w / sw * delta;
                m2 += w * delta * (y - mean);
            }
            return (sw, mean, m2);
        }

        internal void Apply(TrainingSet set)
        {
            if (Mean == 0 && Scale == 1) return;
            for (int i = 0; i < set.Rows; i++)
                set.Targets[i] = (float)((set.Targets[i] - Mean) / Scale);
        }

        /// <summary>Output layer in label units: W·Scale, b·Scale + Mean.</summary>
        internal void Fold(MlpNetwork network) => Transform(network, Scale, Mean);

        /// <summary>The inverse of <see cref="Fold"/> (warm start from a model in label units).</summary>
        internal void Unfold(MlpNetwork network) => Transform(network, 1 / Scale, -Mean / Scale);

        private void Transform(MlpNetwork network, double scale, double shift)
        {
            if (Mean == 0 && Scale == 1) return;
            int last = network.LayerCount - 1;
            var w = network.GetWeights(last);
            var b = network.GetBiases(last);
            for (int i = 0; i < w.Length; i++) w[i] = (float)(w[i] * scale);
            for (int i = 0; i < b.Length; i++) b[i] = (float)(b[i] * scale + shift);
            network.SetLayer(last, w, b);
        }
    }
}
