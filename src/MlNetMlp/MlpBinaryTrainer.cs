using System;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Training;

namespace MlNetMlp
{
    /// <summary>
    /// The <see cref="IEstimator{TTransformer}"/> that trains a binary multilayer perceptron (one output unit) with
    /// minibatch backpropagation in the native MlNetMlp core.
    /// </summary>
    /// <remarks>
    /// Create it with <see cref="MlpCatalog.Mlp(BinaryClassificationCatalog.BinaryClassificationTrainers, MlpBinaryTrainer.Options)"/>.
    ///
    /// Input columns: the label, <see cref="bool"/>; the features, a known-size vector of <see cref="float"/>;
    /// optionally an example weight (<see cref="float"/>). Output columns: <c>Score</c> (the output unit: a logit for
    /// <see cref="MlpBinaryLoss.LogLoss"/>, a margin for <see cref="MlpBinaryLoss.Hinge"/>), <c>Probability</c>
    /// (the sigmoid of the logit, or a Platt calibration of the margin fitted on the training data) and
    /// <c>PredictedLabel</c> (score &gt; 0). Both <c>Evaluate</c> and <c>EvaluateNonCalibrated</c> work.
    ///
    /// <format type="text/markdown"><![CDATA[
    /// ### Trainer Characteristics
    /// |  |  |
    /// | -- | -- |
    /// | Machine learning task | Binary classification |
    /// | Is normalization required? | No (the trainer scales the features and imputes missing values; NormalizeFeatures) |
    /// | Is caching required? | No (the data is read once into memory) |
    /// | Required NuGet in addition to Microsoft.ML | MlNetMlp |
    /// | Exportable to ONNX | Yes (ConvertToOnnx, package Microsoft.ML.OnnxConverter) |
    /// ]]></format>
    /// </remarks>
    public sealed class MlpBinaryTrainer
        : MlpTrainerBase<BinaryPredictionTransformer<CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator>>,
            CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator>>
    {
        internal const string LoadName = "MlpBinary";

        /// <summary>Options for <see cref="MlpBinaryTrainer"/>; see <see cref="MlpTrainerOptionsBase"/> for the shared ones.</summary>
        public sealed class Options : MlpClassificationOptionsBase
        {
            /// <summary>The loss. Default: <see cref="MlpBinaryLoss.LogLoss"/>.</summary>
            public MlpBinaryLoss LossFunction = MlpBinaryLoss.LogLoss;
        }

        private Options TypedOptions => (Options)TrainerOptions;

        internal MlpBinaryTrainer(IHostEnvironment env, Options options)
            : base(env, LoadName, OptionsValidation.Checked(options, o => o.LossFunction), TrainerUtils.MakeBoolScalarLabel)
        {
        }

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

        /// <inheritdoc/>
        protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
        {
            if (labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || labelCol.ItemType != BooleanDataViewType.Instance)
                throw Host.ExceptParam(nameof(labelCol),
                    $"Schema mismatch for label column '{LabelColumn.Name}': expected Boolean, got {labelCol.GetTypeString()}. " +
                    "Convert the label to Boolean first (for example with a CustomMapping or by loading it as bool).");
        }

        /// <inheritdoc/>
        protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema) => new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
            new SchemaShape.Column(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(true))),
            new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        };

        /// <inheritdoc/>
        protected override BinaryPredictionTransformer<CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator>> MakeTransformer(
            CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator> model, DataViewSchema trainSchema)
            => new BinaryPredictionTransformer<CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator>>(Host, model, trainSchema, FeatureColumn.Name);

        /// <inheritdoc/>
        protected override CalibratedModelParametersBase<MlpBinaryModelParameters, PlattCalibrator> TrainModelCore(TrainContext context)
        {
            bool hinge = TypedOptions.LossFunction == MlpBinaryLoss.Hinge;
            var task = new TrainingTask
            {
                LabelKind = LabelKind.Boolean,
                Outputs = 1,
                Loss = hinge ? NativeMethods.LossHinge : NativeMethods.LossSigmoidLogLoss,
            };
            PlattCalibrator calibrator = null;
            var result = MlpTrainingSession.Run(Host, TypedOptions, context, task, (ensemble, rows, ch) =>
                calibrator = hinge ? FitPlatt(ensemble, rows, ch) : new PlattCalibrator(Host, -1, 0)); // sigmoid(logit)
            var model = new MlpBinaryModelParameters(Host, result.Ensemble, result.Preprocessing, result.History);
            return new ValueMapperCalibratedModelParameters<MlpBinaryModelParameters, PlattCalibrator>(Host, model, calibrator);
        }

        /// <summary>Platt scaling of the hinge margins on the training rows, with ML.NET's own calibrator trainer.</summary>
        private unsafe PlattCalibrator FitPlatt(MlpEnsemble ensemble, RowSelection rows, IChannel ch)
        {
            var set = rows.Set;
            var margins = new float[set.Rows];
            var member = new float[set.Rows];
            // the ensemble's margin: its members' summed in order, then divided by the count (as RowScorer does)
            for (int m = 0; m < ensemble.Count; m++)
            {
                set.Predict(ensemble.Members[m], null, NativeMethods.OutputRaw, m == 0 ? margins : member, TypedOptions.NumberOfThreads ?? 0);
                if (m > 0)
                    for (int r = 0; r < margins.Length; r++) margins[r] += member[r];
            }
            if (ensemble.Count > 1)
                for (int r = 0; r < margins.Length; r++) margins[r] /= ensemble.Count;
            ICalibratorTrainer trainer = new PlattCalibratorTrainer(Host);
            foreach (int r in rows.Rows)
                trainer.ProcessTrainingExample(margins[r], set.Targets[r] > 0.5f, set.Weights?[r] ?? 1);
            return (PlattCalibrator)trainer.FinishTraining(ch);
        }
    }
}
