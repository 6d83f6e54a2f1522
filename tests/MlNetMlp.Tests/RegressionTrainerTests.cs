using System;
using System.Linq;
using Microsoft.ML;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    public sealed class RegressionTrainerTests
    {
        [Test]
        public void LearnsANonLinearTargetOfLargeMagnitudeWithoutRescaling()
        {
            var ml = new MLContext(seed: 1);
            var train = TestData.ToDataView(ml, TestData.Wave(2000, 1), 2);
            var test = TestData.ToDataView(ml, TestData.Wave(500, 2), 2);
            var options = new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 64, 32 }, NumberOfEpochs = 60, BatchSize = 32, LearningRate = 0.003f };
            var model = ml.Regression.Trainers.Mlp(options).Fit(train);
            var metrics = ml.Regression.Evaluate(model.Transform(test));
            Assert.That(metrics.RSquared, Is.GreaterThan(0.95), $"R² (RMSE {metrics.RootMeanSquaredError:F1} on targets around 5000 ± 700)");

            var linear = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = Array.Empty<int>(), NumberOfEpochs = 30, LearningRate = 0.01f }).Fit(train);
            var linearMetrics = ml.Regression.Evaluate(linear.Transform(test));
            Assert.That(linearMetrics.RSquared, Is.LessThan(0.2), "the target is not linear in the features");
            Assert.That(Math.Abs(linearMetrics.RSquared), Is.LessThan(0.2), "but the linear model still finds the mean (offset 5000)");
        }

        [Test]
        public void ValidationMetricIsRSquared()
        {
            var ml = new MLContext(seed: 1);
            var options = new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 10, BatchSize = 32, LearningRate = 0.003f, ValidationFraction = 0.2f };
            var model = ml.Regression.Trainers.Mlp(options).Fit(TestData.ToDataView(ml, TestData.Wave(1000, 1), 2));
            var last = model.Model.TrainingHistory.Last();
            Assert.That(last.ValidationMetric, Is.GreaterThan(0.5).And.LessThanOrEqualTo(1.0));
            Assert.That(last.ValidationLoss, Is.GreaterThan(0));
        }

        [Test]
        public void LabelMustBeSingle()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.ToDataView(ml, TestData.BinaryRings(20, 1), 2); // Boolean label
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.Mlp().Fit(data));
            Assert.That(e.Message, Does.Contain("expected Single"));
        }
    }
}
