using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Training;

namespace MlNetMlp
{
    /// <summary>
    /// The <see cref="IEstimator{TTransformer}"/> that trains a regression multilayer perceptron (one linear output,
    /// squared or Huber loss) with minibatch backpropagation in the native MlNetMlp core.
    /// </summary>
    /// <remarks>
    /// Create it with <see cref="MlpCatalog.Mlp(RegressionCatalog.RegressionTrainers, MlpRegressionTrainer.Options)"/>.
    ///
    /// Input columns: the label, <see cref="float"/>; the features, a known-size vector of <see cref="float"/>;
    /// optionally an example weight. Output column: <c>Score</c>, the prediction in the label's units. Targets are
    /// standardized internally while training (so large magnitudes need no rescaling by the user) and the scaling is
    /// folded into the output layer. Reported losses are computed on the standardized targets (half the squared error, or
    /// Huber with its threshold at one standard deviation).
    ///
    /// <format type="text/markdown"><![CDATA[
    /// ### Trainer Characteristics
    /// |  |  |
    /// | -- | -- |
    /// | Machine learning task | Regression |
    /// | Is normalization required? | No (the trainer scales the features and imputes missing values; NormalizeFeatures) |
    /// | Is caching required? | No (the data is read once into memory) |
    /// | Required NuGet in addition to Microsoft.ML | MlNetMlp |
    /// | Exportable to ONNX | Yes (ConvertToOnnx, package Microsoft.ML.OnnxConverter) |
    /// ]]></format>
    /// </remarks>
    public sealed class MlpRegressionTrainer : MlpTrainerBase<RegressionPredictionTransformer<MlpRegressionModelParameters>, MlpRegressionModelParameters>
    {
        internal const string LoadName = "MlpRegression";

        /// <summary>Options for <see cref="MlpRegressionTrainer"/>; see <see cref="MlpTrainerOptionsBase"/> for each option.</summary>
        public sealed class Options : MlpTrainerOptionsBase
        {
            /// <summary>The loss. Default: <see cref="MlpRegressionLoss.Squared"/>.</summary>
            public MlpRegressionLoss LossFunction = MlpRegressionLoss.Squared;

            /// <summary>Clamp predictions to the range of the training labels (as RealMLP does): a network can
            /// extrapolate wildly outside the data it saw. Default: true.</summary>
            public bool ClampPredictions = true;
        }

        internal MlpRegressionTrainer(IHostEnvironment env, Options options)
            : base(env, LoadName, OptionsValidation.Checked(options, o => o.LossFunction), TrainerUtils.MakeR4ScalarColumn)
        {
        }

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.Regression;

        /// <inheritdoc/>
        protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
        {
            if (labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || labelCol.ItemType != NumberDataViewType.Single || labelCol.IsKey)
                throw Host.ExceptParam(nameof(labelCol),
                    $"Schema mismatch for label column '{LabelColumn.Name}': expected Single, got {labelCol.GetTypeString()}. " +
                    $"Convert it first, e.g. mlContext.Transforms.Conversion.ConvertType(\"{LabelColumn.Name}\", outputKind: DataKind.Single).");
        }

        /// <inheritdoc/>
        protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema) => new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        };

        /// <inheritdoc/>
        protected override RegressionPredictionTransformer<MlpRegressionModelParameters> MakeTransformer(MlpRegressionModelParameters model, DataViewSchema trainSchema)
            => new RegressionPredictionTransformer<MlpRegressionModelParameters>(Host, model, trainSchema, FeatureColumn.Name);

        /// <inheritdoc/>
        protected override MlpRegressionModelParameters TrainModelCore(TrainContext context)
        {
            var loss = ((Options)TrainerOptions).LossFunction == MlpRegressionLoss.Huber ? NativeMethods.LossHuber : NativeMethods.LossSquared;
            var task = new TrainingTask { LabelKind = LabelKind.Real, Outputs = 1, Loss = loss };
            var result = MlpTrainingSession.Run(Host, TrainerOptions, context, task);
            return new MlpRegressionModelParameters(Host, result.Ensemble, result.Preprocessing, result.History,
                ((Options)TrainerOptions).ClampPredictions ? result.TargetRange : null);
        }
    }
}
