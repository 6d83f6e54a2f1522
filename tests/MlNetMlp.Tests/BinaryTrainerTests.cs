using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    public sealed class BinaryTrainerTests
    {
        private static MlpBinaryTrainer.Options Options(MlpBinaryLoss loss, int[] hidden = null) => new()
        {
            HiddenLayerSizes = hidden ?? new[] { 32, 16 }, NumberOfEpochs = 40, BatchSize = 32, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform, LossFunction = loss,
        };

        [TestCase(MlpBinaryLoss.LogLoss)]
        [TestCase(MlpBinaryLoss.Hinge)]
        public void LearnsRingsAndEvaluatesCalibratedAndNonCalibrated(MlpBinaryLoss loss)
        {
            var ml = new MLContext(seed: 1);
            var train = TestData.ToDataView(ml, TestData.BinaryRings(1000, 1), 2);
            var test = TestData.ToDataView(ml, TestData.BinaryRings(500, 2), 2);
            var model = ml.BinaryClassification.Trainers.Mlp(Options(loss)).Fit(train);
            var scored = model.Transform(test);

            var calibrated = ml.BinaryClassification.Evaluate(scored);
            var uncalibrated = ml.BinaryClassification.EvaluateNonCalibrated(scored);
            Assert.That(calibrated.Accuracy, Is.GreaterThanOrEqualTo(0.95));
            Assert.That(uncalibrated.Accuracy, Is.EqualTo(calibrated.Accuracy));
            Assert.That(calibrated.AreaUnderRocCurve, Is.GreaterThan(0.98));
            Assert.That(calibrated.LogLoss, Is.LessThan(0.25), "probabilities are meaningful (calibrated)");
            Assert.That(model.Model.SubModel.LossFunction, Is.EqualTo(loss));

            // Probability increases with Score and PredictedLabel is Score > 0.
            var rows = ml.Data.CreateEnumerable<BinaryPrediction>(scored, false).OrderBy(r => r.Score).ToArray();
            for (int i = 1; i < rows.Length; i++)
                Assert.That(rows[i].Probability, Is.GreaterThanOrEqualTo(rows[i - 1].Probability));
            Assert.That(rows.All(r => r.PredictedLabel == r.Score > 0), Is.True);
            if (loss == MlpBinaryLoss.LogLoss)
                Assert.That(rows.All(r => Math.Abs(r.Probability - 1 / (1 + Math.Exp(-r.Score))) < 1e-6), Is.True, "log-loss: Probability = sigmoid(Score)");
        }

        [Test]
        public void NoHiddenLayerIsLogisticRegression()
        {
            var ml = new MLContext(seed: 1);
            var model = ml.BinaryClassification.Trainers.Mlp(Options(MlpBinaryLoss.LogLoss, Array.Empty<int>()))
                .Fit(TestData.ToDataView(ml, TestData.BinaryRings(200, 1), 2));
            Assert.That(model.Model.SubModel.LayerSizes, Is.EqualTo(new[] { 2, 1 }));
            Assert.That(model.Model.SubModel.ParameterCount, Is.EqualTo(3));
        }

        [Test]
        public void LabelMustBeBoolean()
        {
            var ml = new MLContext(seed: 1);
            var data = TestData.ToDataView(ml, TestData.Wave(20, 1), 2); // Single label
            var trainer = ml.BinaryClassification.Trainers.Mlp();
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(TestData.Shape(data.Schema)));
            Assert.That(e.Message, Does.Contain("expected Boolean"));
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        }

        [Test]
        public void UnknownLossFunctionsAreRejectedByName()
        {
            var ml = new MLContext();
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { LossFunction = (MlpBinaryLoss)7 }));
            Assert.That(e.ParamName, Is.EqualTo("LossFunction"));
            e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { LossFunction = (MlpRegressionLoss)7 }));
            Assert.That(e.ParamName, Is.EqualTo("LossFunction"));
        }

        [Test]
        public void OneClassOnlyIsAClearError()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.BinaryRings(40, 1).Where(r => r.Label).ToArray();
            var e = Assert.Catch<Exception>(() => ml.BinaryClassification.Trainers.Mlp(Options(MlpBinaryLoss.LogLoss)).Fit(TestData.ToDataView(ml, rows, 2)));
            Assert.That(e.Message, Does.Contain("at least two"));
        }
    }
}
