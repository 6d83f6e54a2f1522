using System;
using System.Linq;

namespace MlNetMlp.Training
{
    /// <summary>The options with every automatic choice made for one data set: architecture, learning rates, batch
    /// size, epochs, validation and best-epoch selection.</summary>
    internal sealed class TrainingPlan
    {
        internal const int DefaultWidth = 256, DefaultEnsembleWidth = 128, DefaultDepth = 3;
        internal const int DefaultBatch = 256;
        /// <summary>RealMLP's factors under <see cref="MlpLearningRateScaling.FanIn"/>.</summary>
        internal const float BiasRateFactor = 0.1f, InputScaleRateFactor = 6f;

        internal int[] HiddenLayerSizes { get; private init; }
        internal int EnsembleSize { get; private init; }
        internal bool InputScale { get; private init; }
        /// <summary>The wide-sparse defaults apply (see <see cref="MlpTrainerOptionsBase.WideSparseInputs"/>).</summary>
        internal bool WideSparse { get; private init; }
        internal const int WideSparseWidth = 64;
        internal float LearningRate { get; private init; }
        internal MlpLearningRateScaling Scaling { get; private init; }
        internal int BatchSize { get; private init; }
        internal int Epochs { get; private init; }
        internal bool EpochsAutomatic { get; private init; }
        internal float LabelSmoothing { get; private init; }
        /// <summary>Keep the best validation epoch's weights.</summary>
        internal bool RestoreBest { get; private init; }
        /// <summary>Stop after this many epochs without improvement; 0 = never.</summary>
        internal int Patience { get; private init; }

        /// <summary>The hold-out fraction when <c>Fit</c> got no validation set: the option, or none (see
        /// <see cref="MlpTrainerOptionsBase.ValidationFraction"/> for why).</summary>
        internal static float ValidationFraction(MlpTrainerOptionsBase options) => options.ValidationFraction ?? 0f;

        /// <summary>The plan for <paramref name="trainRows"/> training rows (after any hold-out).</summary>
        internal static TrainingPlan Create(MlpTrainerOptionsBase options, TrainingTask task, int trainRows, bool hasValidation,
            bool sparse = false, int inputs = 0)
        {
            bool wide = sparse && inputs >= MlpTrainerOptionsBase.WideSparseInputs;
            var scaling = options.LearningRateScaling ?? (options.Optimizer == MlpOptimizer.Adam ? MlpLearningRateScaling.FanIn : MlpLearningRateScaling.Uniform);
            float rate = options.LearningRate ?? (options.Optimizer == MlpOptimizer.Sgd ? 0.05f
                : scaling == MlpLearningRateScaling.FanIn ? (task.IsRegression ? 0.07f : 0.04f) : 0.002f);
            int batch = Math.Min(options.BatchSize ?? DefaultBatch, Math.Max(1, trainRows));
            int stepsPerEpoch = (trainRows + batch - 1) / batch;
            int epochs = options.NumberOfEpochs ?? Math.Clamp((int)Math.Round((double)MlpTrainerOptionsBase.AutomaticEpochSteps / stepsPerEpoch),
                MlpTrainerOptionsBase.AutomaticMinimumEpochs, MlpTrainerOptionsBase.AutomaticMaximumEpochs);
            int patience = options.EarlyStoppingPatience ?? 0;
            // a linear model (no hidden layer) is convex: its members would all converge to the same model
            bool linear = options.HiddenLayerSizes is { Length: 0 };
            int members = options.EnsembleSize ?? (linear || wide ? 1 : MlpTrainerOptionsBase.AutomaticEnsembleSize);
            return new TrainingPlan
            {
                EnsembleSize = members,
                WideSparse = wide,
                InputScale = options.InputScale ?? !wide,
                HiddenLayerSizes = options.HiddenLayerSizes ?? (wide ? new[] { WideSparseWidth }
                    : Enumerable.Repeat(members > 1 ? DefaultEnsembleWidth : DefaultWidth, DefaultDepth).ToArray()),
                LearningRate = rate,
                Scaling = scaling,
                BatchSize = batch,
                Epochs = epochs,
                EpochsAutomatic = options.NumberOfEpochs == null,
                LabelSmoothing = task.IsRegression || task.Loss == Interop.NativeMethods.LossHinge ? 0f
                    : (options as MlpClassificationOptionsBase)?.LabelSmoothing ?? 0f,
                RestoreBest = hasValidation && options.EarlyStoppingPatience != 0,
                Patience = hasValidation ? patience : 0,
            };
        }

        /// <summary>Weight and bias rate factors of each layer of <paramref name="layerSizes"/>.</summary>
        internal (float[] Weights, float[] Biases) RateFactors(ReadOnlySpan<int> layerSizes)
        {
            int layers = layerSizes.Length - 1;
            var w = new float[layers];
            var b = new float[layers];
            for (int l = 0; l < layers; l++)
            {
                w[l] = Scaling == MlpLearningRateScaling.FanIn ? (float)(1 / Math.Sqrt(layerSizes[l])) : 1f;
                b[l] = Scaling == MlpLearningRateScaling.FanIn ? BiasRateFactor : 1f;
            }
            return (w, b);
        }

        internal float InputScaleRate => Scaling == MlpLearningRateScaling.FanIn ? InputScaleRateFactor : 1f;

        internal string Describe(int rows) =>
            (WideSparse ? "wide sparse inputs, " : "") + $"{Epochs} epochs{(EpochsAutomatic ? " (automatic)" : "")} of {(rows + BatchSize - 1) / BatchSize} minibatches of {BatchSize}, " +
            $"learning rate {LearningRate:G3} ({Scaling})" + (LabelSmoothing > 0 ? $", label smoothing {LabelSmoothing:G2}" : "") +
            (RestoreBest ? ", best validation epoch kept" : "") + (Patience > 0 ? $", early stopping after {Patience} epochs without improvement" : "");
    }
}
