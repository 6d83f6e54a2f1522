using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.LightGbm;
using MlNetMlp;

namespace FashionMnist
{
    /// <summary>One trainer of the comparison: how to build it, and whether it reports epochs.</summary>
    public sealed class TrainerChoice
    {
        internal TrainerChoice(string name, string display, Func<MLContext, SampleOptions, Action<MlpEpochReport>, IEstimator<ITransformer>> create, bool isMlp)
        {
            Name = name;
            Display = display;
            Create = create;
            IsMlp = isMlp;
        }

        /// <summary>The --trainers name.</summary>
        public string Name { get; }

        /// <summary>The table label.</summary>
        public string Display { get; }

        /// <summary>Builds the trainer (the callback receives MLP epoch reports).</summary>
        public Func<MLContext, SampleOptions, Action<MlpEpochReport>, IEstimator<ITransformer>> Create { get; }

        /// <summary>An MlNetMlp trainer (supports validation data and epoch reports).</summary>
        public bool IsMlp { get; }
    }

    /// <summary>The trainers the sample can compare, all on the same data and normalization.</summary>
    public static class TrainerChoices
    {
        /// <summary>All choices, in table order.</summary>
        public static readonly IReadOnlyList<TrainerChoice> All = new[]
        {
            new TrainerChoice("mlp", "MlNetMlp MLP (default)", (ml, o, progress) =>
            {
                // EarlyStoppingPatience = 0: the test set is only monitored (learning curves); its best epoch must not be picked
                var options = new MlpMulticlassTrainer.Options { NumberOfThreads = o.Threads, EpochCallback = progress, EarlyStoppingPatience = 0 };
                if (o.HiddenLayerSizes != null) options.HiddenLayerSizes = o.HiddenLayerSizes;
                if (o.Epochs.HasValue) options.NumberOfEpochs = o.Epochs.Value;
                return ml.MulticlassClassification.Trainers.Mlp(options);
            }, isMlp: true),
            new TrainerChoice("mlp-bf16", "MlNetMlp MLP, bfloat16 GEMMs", (ml, o, progress) =>
            {
                var options = new MlpMulticlassTrainer.Options
                {
                    NumberOfThreads = o.Threads, EpochCallback = progress, EarlyStoppingPatience = 0, Precision = MlpPrecision.BFloat16,
                };
                if (o.HiddenLayerSizes != null) options.HiddenLayerSizes = o.HiddenLayerSizes;
                if (o.Epochs.HasValue) options.NumberOfEpochs = o.Epochs.Value;
                return ml.MulticlassClassification.Trainers.Mlp(options);
            }, true),
            new TrainerChoice("mlp-linear", "MlNetMlp, no hidden layer", (ml, o, progress) =>
            {
                var options = new MlpMulticlassTrainer.Options { HiddenLayerSizes = Array.Empty<int>(), NumberOfThreads = o.Threads, EpochCallback = progress, EarlyStoppingPatience = 0 };
                if (o.Epochs.HasValue) options.NumberOfEpochs = o.Epochs.Value;
                return ml.MulticlassClassification.Trainers.Mlp(options);
            }, isMlp: true),
            new TrainerChoice("lbfgs", "LbfgsMaximumEntropy", (ml, o, _) =>
                ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = o.Threads }), false),
            new TrainerChoice("sdca", "SdcaMaximumEntropy", (ml, o, _) =>
                ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = o.Threads }), false),
            new TrainerChoice("lightgbm", "LightGbm", (ml, o, _) =>
                ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { NumberOfThreads = o.Threads }), false),
            new TrainerChoice("naivebayes", "NaiveBayes", (ml, o, _) => ml.MulticlassClassification.Trainers.NaiveBayes(), false),
        };

        /// <summary>The --trainers names.</summary>
        public static IReadOnlyList<string> Names => All.Select(t => t.Name).ToArray();

        /// <summary>The trainers run when --trainers is not given: all but the variants of the default MLP (mlp-bf16).</summary>
        public static IReadOnlyList<string> DefaultNames => Names.Where(n => n != "mlp-bf16").ToArray();

        /// <summary>The choice named <paramref name="name"/>.</summary>
        public static TrainerChoice Get(string name) => All.Single(t => t.Name == name);
    }
}
