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
    /// Trainer characteristics: task multiclass classification; normalization required (scale features to about
    /// [0, 1] or unit variance); caching not required (the data is read once into memory); no extra NuGet
    /// package; not yet exportable to ONNX.
    /// </remarks>
    public sealed class MlpMulticlassTrainer : TrainerEstimatorBase<MulticlassPredictionTransformer<MlpModelParameters>, MlpModelParameters>
    {
        internal const string LoadName = "MlpMulticlass";

        /// <summary>Options for <see cref="MlpMulticlassTrainer"/>; see <see cref="MlpTrainerOptionsBase"/> for each option.</summary>
        public sealed class Options : MlpTrainerOptionsBase
        {
        }

        private static readonly TrainerInfo _info = new TrainerInfo(normalization: true, caching: false, supportValid: true, supportIncrementalTrain: true);
        private readonly Options _options;

        internal MlpMulticlassTrainer(IHostEnvironment env, Options options)
            : base(Contracts.CheckRef(env, nameof(env)).Register(LoadName),
                  TrainerUtils.MakeR4VecFeature(CheckOptions(options).FeatureColumnName),
                  TrainerUtils.MakeU4ScalarColumn(options.LabelColumnName),
                  TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
        {
            _options = options;
        }

        private static Options CheckOptions(Options options)
        {
            if (options == null)
                throw new ArgumentNullException(nameof(options));
            OptionsValidation.Validate(options);
            return options;
        }

        /// <summary>Capabilities: normalization wanted, no caching needed, supports validation data and warm start.</summary>
        public override TrainerInfo Info => _info;

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

        /// <summary>Trains with <paramref name="validationData"/> measured after every epoch (and used for early
        /// stopping when <see cref="MlpTrainerOptionsBase.EarlyStoppingPatience"/> is set).</summary>
        public MulticlassPredictionTransformer<MlpModelParameters> Fit(IDataView trainData, IDataView validationData)
            => TrainTransformer(trainData, validationData);

        /// <summary>Continues training from <paramref name="modelParameters"/> (same layer sizes required).</summary>
        public MulticlassPredictionTransformer<MlpModelParameters> Fit(IDataView trainData, MlpModelParameters modelParameters)
            => TrainTransformer(trainData, initPredictor: modelParameters);

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
            using var ch = Host.Start("Training");
            var data = context.TrainingSet;
            int classCount = ClassCount(data, ch);
            int seed = _options.Seed ?? Host.Rand.Next();

            using var train = TrainingSet.Read(data, LabelKind.Key, classCount, Host, ch, "training");
            using var validSet = context.ValidationSet != null
                ? TrainingSet.Read(context.ValidationSet, LabelKind.Key, classCount, Host, ch, "validation") : null;
            RowSelection trainRows, validRows;
            if (validSet != null)
            {
                trainRows = new RowSelection(train, Enumerable.Range(0, train.Rows).ToArray());
                validRows = new RowSelection(validSet, Enumerable.Range(0, validSet.Rows).ToArray());
            }
            else if (_options.ValidationFraction > 0)
            {
                var (t, v) = DataSplit.Split(train.Rows, train.Labels, _options.ValidationFraction, seed);
                trainRows = new RowSelection(train, t);
                validRows = new RowSelection(train, v);
            }
            else
            {
                trainRows = new RowSelection(train, Enumerable.Range(0, train.Rows).ToArray());
                validRows = default;
            }
            if (_options.EarlyStoppingPatience > 0 && validRows.IsEmpty)
                ch.Warning("EarlyStoppingPatience is set but there is no validation data (set ValidationFraction or pass a validation set to Fit): early stopping is off.");

            int distinct = trainRows.Rows.Select(r => train.Labels[r]).Distinct().Count();
            if (distinct < 2)
                throw ch.Except($"The training data has only {distinct} class in label column '{data.Schema.Label.Value.Name}': " +
                    "a classifier needs at least two classes.");

            var network = CreateNetwork(context.InitialPredictor, train.Columns, classCount, seed, ch);
            ch.Info($"Training an MLP {string.Join("-", network.LayerSizes)} ({network.ParameterCount} parameters) on {trainRows.Rows.Length} rows" +
                (validRows.IsEmpty ? "" : $", validating on {validRows.Rows.Length}") + $"; native kernels: {Native.Isa}.");
            var history = new MlpTrainingLoop(_options, Host, ch, isRegression: false).Run(network, trainRows, validRows, seed);
            return new MlpModelParameters(Host, network, history);
        }

        private int ClassCount(RoleMappedData data, IChannel ch)
        {
            if (!data.Schema.Label.HasValue)
                throw ch.ExceptParam(nameof(data), "Training data must specify a label column.");
            var label = data.Schema.Label.Value;
            if (!(label.Type is KeyDataViewType key) || key.RawType != typeof(uint))
                throw ch.ExceptParam(nameof(data), $"Label column '{label.Name}' has type {label.Type}; the multiclass MLP needs a key type. " +
                    $"Use mlContext.Transforms.Conversion.MapValueToKey(\"{label.Name}\").");
            int count = key.GetCountAsInt32(Host);
            if (count < 2)
                throw ch.ExceptParam(nameof(data), $"Label column '{label.Name}' has {count} class; a classifier needs at least two.");
            return count;
        }

        private MlpNetwork CreateNetwork(IPredictor initial, int inputs, int classes, int seed, IChannel ch)
        {
            var sizes = new[] { inputs }.Concat(_options.HiddenLayerSizes).Append(classes).ToArray();
            if (initial == null)
            {
                var network = new MlpNetwork(sizes, _options.Activation, NativeMethods.LossSoftmaxCrossEntropy);
                network.Initialize((ulong)(uint)seed);
                return network;
            }
            if (!(initial is MlpModelParameters warm))
                throw ch.ExceptParam(nameof(initial), $"Warm start needs MlpModelParameters, got {initial.GetType().Name}.");
            if (!warm.LayerSizes.SequenceEqual(sizes) || warm.Activation != _options.Activation)
                throw ch.ExceptParam(nameof(initial),
                    $"Warm start needs the same architecture: the model has layers {string.Join("-", warm.LayerSizes)} ({warm.Activation}), " +
                    $"the options and data give {string.Join("-", sizes)} ({_options.Activation}).");
            return warm.Network.Clone();
        }
    }
}
