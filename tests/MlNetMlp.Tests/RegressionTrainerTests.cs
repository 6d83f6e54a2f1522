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
            var options = new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 64, 32 }, NumberOfEpochs = 60, BatchSize = 32, LearningRate = 0.003f, LearningRateScaling = MlpLearningRateScaling.Uniform };
            var model = ml.Regression.Trainers.Mlp(options).Fit(train);
            var metrics = ml.Regression.Evaluate(model.Transform(test));
            Assert.That(metrics.RSquared, Is.GreaterThan(0.95), $"R² (RMSE {metrics.RootMeanSquaredError:F1} on targets around 5000 ± 700)");

            var linear = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = Array.Empty<int>(), NumberOfEpochs = 30, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform }).Fit(train);
            var linearMetrics = ml.Regression.Evaluate(linear.Transform(test));
            Assert.That(linearMetrics.RSquared, Is.LessThan(0.2), "the target is not linear in the features");
            Assert.That(Math.Abs(linearMetrics.RSquared), Is.LessThan(0.2), "but the linear model still finds the mean (offset 5000)");
        }

        [Test]
        public void ValidationMetricIsRSquared()
        {
            var ml = new MLContext(seed: 1);
            var options = new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 40, ValidationFraction = 0.2f };
            var model = ml.Regression.Trainers.Mlp(options).Fit(TestData.ToDataView(ml, TestData.Wave(1000, 1), 2));
            var last = model.Model.TrainingHistory.Last();
            Assert.That(last.ValidationMetric, Is.GreaterThan(0.5).And.LessThanOrEqualTo(1.0));
            Assert.That(last.ValidationLoss, Is.GreaterThan(0));
        }

        [Test]
        public void PredictionsAreClampedToTheTrainingLabelsRange()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Wave(400, 4);
            var data = TestData.ToDataView(ml, rows, 2);
            var far = new[] { new RegressionRow { Label = 0, Features = new[] { 1e4f, -1e4f } }, new RegressionRow { Label = 0, Features = new[] { -50f, 80f } } };
            float lo = rows.Min(r => r.Label), hi = rows.Max(r => r.Label);
            foreach (bool clamp in new[] { true, false })
            {
                var options = new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 30, ValidationFraction = 0, ClampPredictions = clamp, NormalizeFeatures = false };
                var model = ml.Regression.Trainers.Mlp(options).Fit(data);
                var scores = ml.Data.CreateEnumerable<OnnxExportTests.RegressionPrediction>(model.Transform(TestData.ToDataView(ml, far, 2)), false).Select(s => s.Score).ToArray();
                if (clamp)
                {
                    Assert.That(model.Model.PredictionRange, Is.EqualTo((lo, hi)));
                    Assert.That(scores, Is.All.InRange(lo, hi), "clamped to the training labels");
                }
                else
                {
                    Assert.That(model.Model.PredictionRange, Is.Null);
                    Assert.That(scores.Any(s => s < lo || s > hi), Is.True, "far inputs extrapolate beyond the labels without the clamp");
                }
            }
        }

        [Test]
        public void HuberLossResistsOutliersBetterThanSquaredLoss()
        {
            var ml = new MLContext(seed: 1);
            var random = new Random(5);
            // a linear target with 5% gross outliers in training; the test set is clean
            RegressionRow Row(bool outlier)
            {
                float x = (float)(random.NextDouble() * 2 - 1);
                return new RegressionRow { Label = 3 * x + (outlier ? 60f : 0f), Features = new[] { x } };
            }
            var train = TestData.ToDataView(ml, Enumerable.Range(0, 1000).Select(i => Row(i % 20 == 0)).ToArray(), 1);
            var test = TestData.ToDataView(ml, Enumerable.Range(0, 300).Select(_ => Row(false)).ToArray(), 1);
            double Rmse(MlpRegressionLoss loss)
            {
                var options = new MlpRegressionTrainer.Options
                {
                    HiddenLayerSizes = Array.Empty<int>(), NumberOfEpochs = 30, BatchSize = 32, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform, LossFunction = loss, WeightDecay = 0,
                };
                var model = ml.Regression.Trainers.Mlp(options).Fit(train);
                Assert.That(model.Model.LossFunction, Is.EqualTo(loss));
                return ml.Regression.Evaluate(model.Transform(test)).RootMeanSquaredError;
            }
            double squared = Rmse(MlpRegressionLoss.Squared), huber = Rmse(MlpRegressionLoss.Huber);
            Assert.That(huber, Is.LessThan(squared / 2), $"clean-test RMSE: squared {squared:F3}, Huber {huber:F3}");
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
