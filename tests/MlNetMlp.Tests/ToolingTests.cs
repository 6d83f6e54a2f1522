using System;
using System.Linq;
using Microsoft.ML;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>The ML.NET tools users reach for work on MLP models.</summary>
    public sealed class ToolingTests
    {
        [Test]
        public void PermutationFeatureImportanceFindsTheInformativeFeatures()
        {
            var ml = new MLContext(seed: 1);
            // features 0 and 1 hold the rings, 2..5 are noise
            var multi = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, TestData.Rings(600, 1, noiseFeatures: 4), 6))
                .Transform(TestData.ToDataView(ml, TestData.Rings(600, 1, noiseFeatures: 4), 6));
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 30, BatchSize = 32, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform }).Fit(multi);
            var pfi = ml.MulticlassClassification.PermutationFeatureImportance(model, multi, permutationCount: 2);
            var drops = pfi.Select(p => -p.MicroAccuracy.Mean).ToArray();
            Assert.That(Math.Min(drops[0], drops[1]), Is.GreaterThan(5 * drops.Skip(2).Max() + 0.05), string.Join(", ", drops.Select(d => d.ToString("F3"))));

            var binaryRows = TestData.Rings(600, 2, noiseFeatures: 4).Select(r => new BinaryRow { Label = r.Label == "outer", Features = r.Features }).ToArray();
            var binaryData = TestData.ToDataView(ml, binaryRows, 6);
            var binary = ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 30, BatchSize = 32, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform }).Fit(binaryData);
            var binaryPfi = ml.BinaryClassification.PermutationFeatureImportance(binary, binaryData, permutationCount: 2);
            Assert.That(binaryPfi[0].AreaUnderRocCurve.Mean, Is.LessThan(binaryPfi[5].AreaUnderRocCurve.Mean - 0.05));

            var regressionData = TestData.ToDataView(ml, TestData.Wave(600, 3), 2);
            var regression = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 20, BatchSize = 32, LearningRate = 0.003f, LearningRateScaling = MlpLearningRateScaling.Uniform }).Fit(regressionData);
            var regressionPfi = ml.Regression.PermutationFeatureImportance(regression, regressionData, permutationCount: 2);
            Assert.That(regressionPfi.All(p => p.RSquared.Mean < -0.1), Is.True, "both features matter for x1·sin(2 x0)");
        }

        [Test]
        public void ModelSummaryDescribesTheNetwork()
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, TestData.Blobs(100, 3, 5, 1), 5))
                .Transform(TestData.ToDataView(ml, TestData.Blobs(100, 3, 5, 1), 5));
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 7 }, NumberOfEpochs = 2, Activation = MlpActivation.Tanh }).Fit(data).Model;
            Assert.That(model.ToString(), Is.EqualTo($"MLP 5-7-3 (Tanh, softmax) x 4 averaged, {4 * (5 * 7 + 7 + 7 * 3 + 3)} parameters, 2 epochs trained"),
                "the default: an ensemble of four");
            var single = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 7 }, NumberOfEpochs = 2, Activation = MlpActivation.Tanh, EnsembleSize = 1 }).Fit(data).Model;
            Assert.That(single.ToString(), Is.EqualTo($"MLP 5-7-3 (Tanh, softmax), {5 * 7 + 7 + 7 * 3 + 3} parameters, 2 epochs trained"));
            Assert.That(model.TrainingHistory[1].ToString(), Does.StartWith("epoch 2/2: training loss"));
        }
    }
}
