using System;

namespace MlNetMlp.Training
{
    /// <summary>Checks every option before training starts, naming the offending one.</summary>
    internal static class OptionsValidation
    {
        internal const int MaxThreads = 256;

        /// <summary>Validates and returns <paramref name="options"/> (for use in a trainer's base-constructor call).</summary>
        internal static T Checked<T>(T options) where T : MlpTrainerOptionsBase
        {
            if (options == null)
                throw new ArgumentNullException(nameof(options));
            Validate(options);
            return options;
        }

        /// <summary>Like <see cref="Checked{T}(T)"/>, also checking a trainer-specific loss option.</summary>
        internal static T Checked<T, TLoss>(T options, Func<T, TLoss> loss) where T : MlpTrainerOptionsBase where TLoss : struct, Enum
        {
            Checked(options);
            if (!Enum.IsDefined(loss(options)))
                throw Out("LossFunction", loss(options), "is not a known loss.");
            return options;
        }

        internal static void Validate(MlpTrainerOptionsBase o)
        {
            if (o.HiddenLayerSizes != null)
            {
                if (o.HiddenLayerSizes.Length > MlpNetwork.MaxLayers - 1)
                    throw Out(nameof(o.HiddenLayerSizes), o.HiddenLayerSizes.Length, $"at most {MlpNetwork.MaxLayers - 1} hidden layers are supported.");
                foreach (var size in o.HiddenLayerSizes)
                    if (size < 1 || size > MlpNetwork.MaxWidth)
                        throw Out(nameof(o.HiddenLayerSizes), size, $"every hidden layer size must be in [1, {MlpNetwork.MaxWidth}].");
            }
            if (o.EnsembleSize is int members && (members < 1 || members > MlpEnsemble.MaxMembers))
                throw Out(nameof(o.EnsembleSize), members, $"must be in [1, {MlpEnsemble.MaxMembers}], or null for the automatic size.");
            if (!Enum.IsDefined(o.DataMode))
                throw Out(nameof(o.DataMode), o.DataMode, "unknown data mode.");
            if (o.ShufflePoolRows < 0)
                throw Out(nameof(o.ShufflePoolRows), o.ShufflePoolRows, "must be >= 0 (0 streams in the view's order).");
            if (!Enum.IsDefined(o.Activation))
                throw Out(nameof(o.Activation), o.Activation, "unknown activation.");
            if (!Enum.IsDefined(o.Optimizer))
                throw Out(nameof(o.Optimizer), o.Optimizer, "unknown optimizer.");
            if (o.LearningRate is float rate && !(float.IsFinite(rate) && rate > 0))
                throw Out(nameof(o.LearningRate), rate, "must be a finite number > 0, or null for the automatic rate.");
            if (o.LearningRateScaling is MlpLearningRateScaling scaling && !Enum.IsDefined(scaling))
                throw Out(nameof(o.LearningRateScaling), scaling, "unknown scaling.");
            if (!(o.AdamBeta2 >= 0 && o.AdamBeta2 < 1))
                throw Out(nameof(o.AdamBeta2), o.AdamBeta2, "must be in [0, 1).");
            if (!(o.Momentum >= 0 && o.Momentum < 1))
                throw Out(nameof(o.Momentum), o.Momentum, "must be in [0, 1).");
            if (o.BatchSize is int batch && (batch < 1 || batch > (1 << 20)))
                throw Out(nameof(o.BatchSize), batch, "must be in [1, 1048576], or null for the automatic size.");
            if (o.NumberOfEpochs is int epochs && epochs < 1)
                throw Out(nameof(o.NumberOfEpochs), epochs, "must be at least 1, or null for the automatic number.");
            if (!Enum.IsDefined(o.LearningRateSchedule))
                throw Out(nameof(o.LearningRateSchedule), o.LearningRateSchedule, "unknown schedule.");
            if (!(o.DropoutRate >= 0 && o.DropoutRate < 1))
                throw Out(nameof(o.DropoutRate), o.DropoutRate, "must be in [0, 1).");
            if (!(float.IsFinite(o.L2Regularization) && o.L2Regularization >= 0))
                throw Out(nameof(o.L2Regularization), o.L2Regularization, "must be a finite number >= 0.");
            if (!(float.IsFinite(o.WeightDecay) && o.WeightDecay >= 0 && o.WeightDecay * (o.LearningRate ?? 0.07f) < 1))
                throw Out(nameof(o.WeightDecay), o.WeightDecay, "must be a finite number >= 0 with WeightDecay · LearningRate < 1.");
            if (o.NumberOfThreads is int t && (t < 1 || t > MaxThreads))
                throw Out(nameof(o.NumberOfThreads), t, $"must be in [1, {MaxThreads}], or null for all cores.");
            if (o.ValidationFraction is float fraction && !(fraction >= 0 && fraction < 1))
                throw Out(nameof(o.ValidationFraction), fraction, "must be in [0, 1), or null for the automatic hold-out.");
            if (o.EarlyStoppingPatience is int patience && patience < 0)
                throw Out(nameof(o.EarlyStoppingPatience), patience, "must be >= 0 (0 keeps the last epoch's weights), or null.");
            if (!Enum.IsDefined(o.Precision))
                throw Out(nameof(o.Precision), o.Precision, "unknown precision.");
            if (!Enum.IsDefined(o.DataSharding))
                throw Out(nameof(o.DataSharding), o.DataSharding, "unknown sharding.");
            if (o.CheckpointInterval < 1)
                throw Out(nameof(o.CheckpointInterval), o.CheckpointInterval, "must be at least 1 (epochs between checkpoints).");
            if (o.CheckpointPath != null && string.IsNullOrWhiteSpace(o.CheckpointPath))
                throw Out(nameof(o.CheckpointPath), o.CheckpointPath, "must be a file path, or null for no checkpoints.");
            if (o.ResumeFromCheckpoint && o.CheckpointPath == null)
                throw new ArgumentException("ResumeFromCheckpoint needs CheckpointPath: set the file to resume from.", nameof(o.ResumeFromCheckpoint));
            if (o is MlpClassificationOptionsBase c && !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1))
                throw Out(nameof(c.LabelSmoothing), c.LabelSmoothing, "must be in [0, 1).");
            if (string.IsNullOrWhiteSpace(o.FeatureColumnName))
                throw Out(nameof(o.FeatureColumnName), o.FeatureColumnName, "must name the feature column.");
            if (string.IsNullOrWhiteSpace(o.LabelColumnName))
                throw Out(nameof(o.LabelColumnName), o.LabelColumnName, "must name the label column.");
        }

        private static ArgumentOutOfRangeException Out(string name, object value, string rule) =>
            new ArgumentOutOfRangeException(name, value, $"{name} {rule}");
    }
}
