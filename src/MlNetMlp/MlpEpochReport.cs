using System;

namespace MlNetMlp
{
    /// <summary>What one training epoch achieved; passed to <see cref="MlpTrainerOptionsBase.EpochCallback"/> and kept
    /// in <see cref="MlpModelParametersBase{TOutput}.TrainingHistory"/>.</summary>
    public sealed class MlpEpochReport
    {
        internal MlpEpochReport(int epoch, int numberOfEpochs, double trainingLoss, double validationLoss, double validationMetric,
            float learningRate, TimeSpan elapsed)
        {
            Epoch = epoch;
            NumberOfEpochs = numberOfEpochs;
            TrainingLoss = trainingLoss;
            ValidationLoss = validationLoss;
            ValidationMetric = validationMetric;
            LearningRate = learningRate;
            Elapsed = elapsed;
        }

        /// <summary>1-based epoch number.</summary>
        public int Epoch { get; }

        /// <summary>The number of epochs planned (training may stop earlier).</summary>
        public int NumberOfEpochs { get; }

        /// <summary>Mean (weighted) loss over the epoch's minibatches, measured before each update.</summary>
        public double TrainingLoss { get; }

        /// <summary>Mean loss on the validation data after the epoch; NaN without validation data.</summary>
        public double ValidationLoss { get; }

        /// <summary>Accuracy (classification) or R² (regression) on the validation data; NaN without validation data.</summary>
        public double ValidationMetric { get; }

        /// <summary>The learning rate used in this epoch.</summary>
        public float LearningRate { get; }

        /// <summary>Time since training started, at the end of this epoch.</summary>
        public TimeSpan Elapsed { get; }

        /// <inheritdoc/>
        public override string ToString() =>
            $"epoch {Epoch}/{NumberOfEpochs}: training loss {TrainingLoss:F4}" +
            (double.IsNaN(ValidationLoss) ? "" : $", validation loss {ValidationLoss:F4}, validation metric {ValidationMetric:F4}") +
            $", learning rate {LearningRate:G3}, elapsed {Elapsed.TotalSeconds:F1} s";
    }
}
