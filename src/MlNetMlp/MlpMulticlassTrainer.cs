using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Training;

namespace MlNetMlp
{
    /// <summary>
    /// The <see cref="IEstimator{TTransformer}"/> that trains a multiclass multilayer perceptron (softmax output,
    /// cross-entropy loss) with minibatch backpropagation in the native MlNetMlp core.
    /// </summary>
    /// <remarks>
    /// Create it with <see cref="MlpCatalog.Mlp(MulticlassClassificationCatalog.MulticlassClassificationTrainers, MlpMulticlassTrainer.Options)"/>.
    ///
    /// Input columns: the label, a key type (use <c>MapValueToKey</c>); the features, a known-size vector of
    /// <see cref="float"/>; optionally an example weight (<see cref="float"/>). Output columns: <c>Score</c>, a vector of
    /// class probabilities, and <c>PredictedLabel</c>, the key of the most probable class.
    ///
    /// <format type="text/markdown"><![CDATA[
    /// ### Trainer Characteristics
    /// |  |  |
    /// | -- | -- |
    /// | Machine learning task | Multiclass classification |
    /// | Is normalization required? | No (the trainer scales the features and imputes missing values; NormalizeFeatures) |
    /// | Is caching required? | No (the data is read once into memory) |
    /// | Required NuGet in addition to Microsoft.ML | MlNetMlp |
    /// | Exportable to ONNX | Yes (ConvertToOnnx, package Microsoft.ML.OnnxConverter) |
    /// ]]></format>
    /// </remarks>
    public sealed class MlpMulticlassTrainer : MlpTrainerBase<MulticlassPredictionTransformer<MlpModelParameters>, MlpModelParameters>
    {
        internal const string LoadName = "MlpMulticlass";

        /// <summary>Options for <see cref="MlpMulticlassTrainer"/>; see <see cref="MlpTrainerOptionsBase"/> for each option.</summary>
        public sealed class Options : MlpClassificationOptionsBase
        {
        }

        internal MlpMulticlassTrainer(IHostEnvironment env, Options options)
            : base(env, LoadName, options, TrainerUtils.MakeU4ScalarColumn)
        {
        }

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

        /// <inheritdoc/>
        protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
        {
            if (labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || !labelCol.IsKey || labelCol.ItemType != NumberDataViewType.UInt32)
                throw Host.ExceptParam(nameof(labelCol),
                    $"Schema mismatch for label column '{LabelColumn.Name}': expected Key<UInt32>, got {labelCol.GetTypeString()}. " +
                    $"Convert the label to a key first: mlContext.Transforms.Conversion.MapValueToKey(\"{LabelColumn.Name}\").");
        }

        /// <inheritdoc/>
        protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
        {
            bool found = inputSchema.TryFindColumn(LabelColumn.Name, out var labelCol);
            Host.Assert(found);
            var predictedLabelAnnotations = new SchemaShape(labelCol.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues)
                .Concat(AnnotationUtils.GetTrainerOutputAnnotation()));
            return new[]
            {
                new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
                    new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(labelCol))),
                new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true,
                    predictedLabelAnnotations),
            };
        }

        /// <inheritdoc/>
        protected override MulticlassPredictionTransformer<MlpModelParameters> MakeTransformer(MlpModelParameters model, DataViewSchema trainSchema)
            => new MulticlassPredictionTransformer<MlpModelParameters>(Host, model, trainSchema, FeatureColumn.Name, LabelColumn.Name);

        /// <inheritdoc/>
        protected override MlpModelParameters TrainModelCore(TrainContext context)
        {
            Host.CheckValue(context, nameof(context));
            int classCount = ClassCount(context.TrainingSet);
            var task = new TrainingTask { LabelKind = LabelKind.Key, ClassCount = classCount, Outputs = classCount, Loss = NativeMethods.LossSoftmaxCrossEntropy };
            var result = MlpTrainingSession.Run(Host, TrainerOptions, context, task);
            return new MlpModelParameters(Host, result.Ensemble, result.Preprocessing, result.History);
        }

        private int ClassCount(RoleMappedData data)
        {
            if (!data.Schema.Label.HasValue)
                throw Host.ExceptParam(nameof(data), "Training data must specify a label column.");
            var label = data.Schema.Label.Value;
            if (!(label.Type is KeyDataViewType key) || key.RawType != typeof(uint))
                throw Host.ExceptParam(nameof(data), $"Label column '{label.Name}' has type {label.Type}; the multiclass MLP needs a key type. " +
                    $"Use mlContext.Transforms.Conversion.MapValueToKey(\"{label.Name}\").");
            int count = key.GetCountAsInt32(Host);
            if (count < 2)
                throw Host.ExceptParam(nameof(data), $"Label column '{label.Name}' has {count} class; a classifier needs at least two.");
            return count;
        }
    }
}
