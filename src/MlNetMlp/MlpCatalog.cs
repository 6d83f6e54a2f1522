using MlNetMlp;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML
{
    /// <summary>Catalog extensions that add the MlNetMlp trainers to <see cref="MLContext"/>, next to the built-in ones
    /// (in namespace <c>Microsoft.ML</c>, like the trainers of other ML.NET packages).</summary>
    public static class MlpCatalog
    {
        /// <summary>A multiclass multilayer perceptron with the default architecture unless <paramref name="hiddenLayerSizes"/> is given.</summary>
        /// <param name="catalog">The multiclass trainers catalog.</param>
        /// <param name="labelColumnName">Label column: a key type (use <c>MapValueToKey</c>).</param>
        /// <param name="featureColumnName">Feature column: a known-size vector of <see cref="float"/>.</param>
        /// <param name="exampleWeightColumnName">Optional example weight column (<see cref="float"/>), scaling each example's loss.</param>
        /// <param name="hiddenLayerSizes">Hidden layer widths (null: the default, three layers of 128 in each of four
        /// ensemble members; empty: no hidden layer).</param>
        /// <param name="numberOfEpochs">Passes over the data (null: chosen from the data size).</param>
        /// <example><code>
        /// var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
        ///     .Append(ml.MulticlassClassification.Trainers.Mlp(hiddenLayerSizes: new[] { 256, 128 }));
        /// </code></example>
        public static MlpMulticlassTrainer Mlp(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            string labelColumnName = DefaultColumnNames.Label,
            string featureColumnName = DefaultColumnNames.Features,
            string exampleWeightColumnName = null,
            int[] hiddenLayerSizes = null,
            int? numberOfEpochs = null)
        {
            return Mlp(catalog, Configure(new MlpMulticlassTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName,
                hiddenLayerSizes, numberOfEpochs));
        }

        /// <summary>A multiclass multilayer perceptron configured by <paramref name="options"/>.</summary>
        /// <param name="catalog">The multiclass trainers catalog.</param>
        /// <param name="options">Architecture, optimizer and training controls.</param>
        public static MlpMulticlassTrainer Mlp(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
            MlpMulticlassTrainer.Options options)
        {
            Contracts.CheckValue(catalog, nameof(catalog));
            return new MlpMulticlassTrainer(catalog.GetEnvironment(), options);
        }

        /// <summary>A binary multilayer perceptron (Boolean label) with default options unless given.</summary>
        /// <param name="catalog">The binary classification trainers catalog.</param>
        /// <param name="labelColumnName">Label column: <see cref="bool"/>.</param>
        /// <param name="featureColumnName">Feature column: a known-size vector of <see cref="float"/>.</param>
        /// <param name="exampleWeightColumnName">Optional example weight column (<see cref="float"/>).</param>
        /// <param name="hiddenLayerSizes">Hidden layer widths (null: the default; empty: logistic regression).</param>
        /// <param name="numberOfEpochs">Passes over the data (null: the default).</param>
        public static MlpBinaryTrainer Mlp(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
            string labelColumnName = DefaultColumnNames.Label,
            string featureColumnName = DefaultColumnNames.Features,
            string exampleWeightColumnName = null,
            int[] hiddenLayerSizes = null,
            int? numberOfEpochs = null)
            => Mlp(catalog, Configure(new MlpBinaryTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, hiddenLayerSizes, numberOfEpochs));

        /// <summary>A binary multilayer perceptron configured by <paramref name="options"/>.</summary>
        /// <param name="catalog">The binary classification trainers catalog.</param>
        /// <param name="options">Architecture, loss, optimizer and training controls.</param>
        public static MlpBinaryTrainer Mlp(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, MlpBinaryTrainer.Options options)
        {
            Contracts.CheckValue(catalog, nameof(catalog));
            return new MlpBinaryTrainer(catalog.GetEnvironment(), options);
        }

        /// <summary>A regression multilayer perceptron (Single label) with default options unless given.</summary>
        /// <param name="catalog">The regression trainers catalog.</param>
        /// <param name="labelColumnName">Label column: <see cref="float"/>.</param>
        /// <param name="featureColumnName">Feature column: a known-size vector of <see cref="float"/>.</param>
        /// <param name="exampleWeightColumnName">Optional example weight column (<see cref="float"/>).</param>
        /// <param name="hiddenLayerSizes">Hidden layer widths (null: the default; empty: linear regression).</param>
        /// <param name="numberOfEpochs">Passes over the data (null: the default).</param>
        public static MlpRegressionTrainer Mlp(this RegressionCatalog.RegressionTrainers catalog,
            string labelColumnName = DefaultColumnNames.Label,
            string featureColumnName = DefaultColumnNames.Features,
            string exampleWeightColumnName = null,
            int[] hiddenLayerSizes = null,
            int? numberOfEpochs = null)
            => Mlp(catalog, Configure(new MlpRegressionTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, hiddenLayerSizes, numberOfEpochs));

        /// <summary>A regression multilayer perceptron configured by <paramref name="options"/>.</summary>
        /// <param name="catalog">The regression trainers catalog.</param>
        /// <param name="options">Architecture, optimizer and training controls.</param>
        public static MlpRegressionTrainer Mlp(this RegressionCatalog.RegressionTrainers catalog, MlpRegressionTrainer.Options options)
        {
            Contracts.CheckValue(catalog, nameof(catalog));
            return new MlpRegressionTrainer(catalog.GetEnvironment(), options);
        }

        private static T Configure<T>(T options, string label, string features, string weight, int[] hidden, int? epochs)
            where T : MlpTrainerOptionsBase
        {
            options.LabelColumnName = label;
            options.FeatureColumnName = features;
            options.ExampleWeightColumnName = weight;
            if (hidden != null)
                options.HiddenLayerSizes = hidden;
            if (epochs.HasValue)
                options.NumberOfEpochs = epochs.Value;
            return options;
        }
    }
}
