using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using MlNetMlp;

namespace Tabular
{
    /// <summary>A trainer of the comparison: its name and how to build it for a task.</summary>
    public sealed class TrainerSpec
    {
        public TrainerSpec(string name, bool isMlp, Func<MLContext, TaskKind, int, IEstimator<ITransformer>> create)
        {
            Name = name;
            IsMlp = isMlp;
            Create = create;
        }

        public string Name { get; }
        public bool IsMlp { get; }
        /// <summary>(context, task, seed) to the trainer estimator (multiclass labels are keys already).</summary>
        public Func<MLContext, TaskKind, int, IEstimator<ITransformer>> Create { get; }
    }

    /// <summary>The built-in trainers with their defaults, and MLP variants given as option assignments.</summary>
    public static class Trainers
    {
        public static readonly string[] BuiltIn = { "lightgbm", "fasttree", "sdca" };

        public static TrainerSpec BuiltInTrainer(string name, int threads) => name switch
        {
            "lightgbm" => new TrainerSpec("LightGbm", false, (ml, task, seed) => task switch
            {
                TaskKind.Binary => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options { NumberOfThreads = threads, Seed = seed }),
                TaskKind.Multiclass => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { NumberOfThreads = threads, Seed = seed }),
                _ => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options { NumberOfThreads = threads, Seed = seed }),
            }),
            "fasttree" => new TrainerSpec("FastTree", false, (ml, task, seed) => task switch
            {
                TaskKind.Binary => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options { NumberOfThreads = threads }),
                // FastTree has no multiclass trainer: one-versus-all over binary FastTree, as ML.NET's docs suggest.
                TaskKind.Multiclass => ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options { NumberOfThreads = threads })),
                _ => ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options { NumberOfThreads = threads }),
            }),
            // SDCA with the mean-variance normalizer that linear models need (on raw columns it is far worse).
            "sdca" => new TrainerSpec("SDCA", false, (ml, task, seed) => ml.Transforms.NormalizeMeanVariance("Features").Append(task switch
            {
                TaskKind.Binary => (IEstimator<ITransformer>)ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options { NumberOfThreads = threads }),
                TaskKind.Multiclass => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = threads }),
                _ => ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { NumberOfThreads = threads }),
            })),
            _ => throw new ArgumentException($"unknown trainer '{name}'; built-in: {string.Join(", ", BuiltIn)}"),
        };

        /// <summary>An MLP with the defaults changed by <paramref name="assignments"/>: "Option=value;Option=value"
        /// (fields of the options classes; arrays comma-separated, e.g. "HiddenLayerSizes=256,256"). An option that only
        /// another task's trainer has (LabelSmoothing for regression) is skipped.</summary>
        public static TrainerSpec Mlp(string name, string assignments, int threads) => new TrainerSpec(name, true, (ml, task, seed) =>
        {
            switch (task)
            {
                case TaskKind.Binary:
                    return ml.BinaryClassification.Trainers.Mlp(Configure(new MlpBinaryTrainer.Options(), assignments, threads, seed));
                case TaskKind.Multiclass:
                    return ml.MulticlassClassification.Trainers.Mlp(Configure(new MlpMulticlassTrainer.Options(), assignments, threads, seed));
                default:
                    return ml.Regression.Trainers.Mlp(Configure(new MlpRegressionTrainer.Options(), assignments, threads, seed));
            }
        });

        private static T Configure<T>(T options, string assignments, int threads, int seed) where T : MlpTrainerOptionsBase
        {
            options.NumberOfThreads = threads;
            options.Seed = seed;
            foreach (var assignment in (assignments ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = assignment.IndexOf('=');
                if (eq < 0) throw new ArgumentException($"'{assignment}' is not Option=value");
                string key = assignment[..eq].Trim(), text = assignment[(eq + 1)..].Trim();
                var field = typeof(T).GetField(key, BindingFlags.Public | BindingFlags.Instance);
                if (field == null)
                {
                    // e.g. LabelSmoothing for a regression set: the variant means the classifiers
                    if (typeof(MlpTrainerOptionsBase).Assembly.GetTypes().Any(t => t.GetField(key) != null))
                        continue;
                    throw new ArgumentException($"{typeof(T).Name} has no option '{key}'");
                }
                field.SetValue(options, Parse(field.FieldType, text));
            }
            return options;
        }

        private static object Parse(Type type, string text)
        {
            var underlying = Nullable.GetUnderlyingType(type);
            if (underlying != null)
                return text == "null" ? null : Parse(underlying, text);
            if (type.IsArray)
            {
                var parts = text.Length == 0 ? Array.Empty<string>() : text.Split(',');
                var array = Array.CreateInstance(type.GetElementType(), parts.Length);
                for (int i = 0; i < parts.Length; i++) array.SetValue(Parse(type.GetElementType(), parts[i]), i);
                return array;
            }
            if (type.IsEnum) return Enum.Parse(type, text, ignoreCase: true);
            return Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
    }
}
