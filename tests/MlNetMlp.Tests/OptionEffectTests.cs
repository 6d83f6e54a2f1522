using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Each training option has the effect it documents.</summary>
    public sealed class OptionEffectTests
    {
        private static IDataView Keyed(MLContext ml, IEnumerable<LabeledRow> rows, int dims)
        {
            var data = TestData.ToDataView(ml, rows, dims);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        /// <summary>Random labels: a large network can only overfit, so validation loss rises early.</summary>
        private static LabeledRow[] Noise(int count, int dims, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(_ => new LabeledRow
            {
                Label = random.Next(2) == 0 ? "a" : "b",
                Features = Enumerable.Range(0, dims).Select(__ => (float)random.NextDouble()).ToArray(),
            }).ToArray();
        }

        [Test]
        public void EarlyStoppingStopsAndRestoresTheBestWeights()
        {
            var ml = new MLContext(seed: 1);
            var train = Keyed(ml, Noise(300, 20, 1), 20);
            var valid = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, Noise(300, 20, 1), 20))
                .Transform(TestData.ToDataView(ml, Noise(200, 20, 2), 20));
            var options = new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 128, 128 }, NumberOfEpochs = 60, BatchSize = 16, LearningRate = 0.003f, LearningRateScaling = MlpLearningRateScaling.Uniform,
                LearningRateSchedule = MlpLearningRateSchedule.Constant, EarlyStoppingPatience = 3,
            };
            var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(train, valid);
            var history = model.Model.TrainingHistory;
            Assert.That(history.Count, Is.LessThan(60), "stopped early");
            // the best epoch: the lowest validation error, ties broken by the lowest validation loss (the first of equals)
            int best = history.Select((h, i) => (Error: 1 - h.ValidationMetric, h.ValidationLoss, i)).Min().i;
            Assert.That(history.Count - 1 - best, Is.EqualTo(3), "stopped exactly `patience` epochs after the best one");
            // The returned weights are the best epoch's: ML.NET's log-loss on the validation set equals its loss then.
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(valid));
            Assert.That(metrics.LogLoss, Is.EqualTo(history[best].ValidationLoss).Within(1e-4));
        }

        [Test]
        public void TheAutomaticBudgetGivesSmallDataMoreEpochs()
        {
            (int Epochs, List<string> Log) Train(int rows, int? epochs)
            {
                var ml = new MLContext(seed: 1);
                var log = new List<string>();
                ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
                var options = new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 8 }, NumberOfEpochs = epochs };
                var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, TestData.Blobs(rows, 3, 4, seed: 2), 4)).Model;
                Assert.That(model.TrainingHistory.Count, Is.EqualTo(model.TrainingHistory[0].NumberOfEpochs), "no early stop without validation data");
                return (model.TrainingHistory.Count, log);
            }
            var small = Train(200, null);
            var large = Train(20_000, null);
            // about AutomaticEpochSteps optimizer steps, within [AutomaticMinimumEpochs, AutomaticMaximumEpochs]
            Assert.That(small.Epochs, Is.EqualTo(MlpTrainerOptionsBase.AutomaticMaximumEpochs), "200 rows: one minibatch per epoch, the most epochs");
            int stepsPerEpoch = (20_000 + 255) / 256;
            Assert.That(large.Epochs, Is.EqualTo((int)Math.Round((double)MlpTrainerOptionsBase.AutomaticEpochSteps / stepsPerEpoch)), "20,000 rows: about 2,000 steps");
            Assert.That(small.Epochs, Is.GreaterThan(large.Epochs));
            Assert.That(small.Log, Has.Some.Contains($"{small.Epochs} epochs (automatic) of 1 minibatches of 200"));
            Assert.That(Train(200, 7).Epochs, Is.EqualTo(7), "an explicit NumberOfEpochs is honoured");
        }

        [Test]
        public void L2RegularizationShrinksTheWeights()
        {
            double SumOfSquares(float l2)
            {
                var ml = new MLContext(seed: 1);
                var options = new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 20, BatchSize = 32, L2Regularization = l2, WeightDecay = 0, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform };
                var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, TestData.Blobs(400, 3, 10, 1), 10)).Model;
                return Enumerable.Range(0, 2).Sum(l => model.GetWeights(l).Sum(w => (double)w * w));
            }
            Assert.That(SumOfSquares(0.05f), Is.LessThan(0.7 * SumOfSquares(0f)));
        }

        [Test]
        public void WeightDecayShrinksTheWeights([Values] MlpOptimizer optimizer)
        {
            double SumOfSquares(float decay)
            {
                var ml = new MLContext(seed: 1);
                var options = new MlpMulticlassTrainer.Options
                {
                    HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 20, BatchSize = 32, WeightDecay = decay, Optimizer = optimizer,
                    LearningRate = optimizer == MlpOptimizer.Adam ? 0.01f : 0.05f, LearningRateScaling = MlpLearningRateScaling.Uniform,
                };
                var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, TestData.Blobs(400, 3, 10, 1), 10)).Model;
                return Enumerable.Range(0, 2).Sum(l => model.GetWeights(l).Sum(w => (double)w * w));
            }
            Assert.That(SumOfSquares(1f), Is.LessThan(0.7 * SumOfSquares(0f)));
        }

        [Test]
        public void ExampleWeightsShiftPredictionsTowardsTheHeavierClass()
        {
            double ShareOfA(bool weighted)
            {
                var ml = new MLContext(seed: 1);
                var rows = TestData.Blobs(600, 2, 2, seed: 3, spread: 1.5).Select(r => new WeightedRow
                {
                    Label = r.Label, Features = r.Features, Weight = weighted && r.Label == "class0" ? 10f : 1f,
                }).ToArray();
                var data = ml.Data.LoadFromEnumerable(rows, TestData.Schema<WeightedRow>(2));
                var options = new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 20, BatchSize = 32, ExampleWeightColumnName = "Weight" };
                var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Mlp(options))
                    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(data);
                var predictions = ml.Data.CreateEnumerable<MulticlassPrediction>(model.Transform(data), false).ToArray();
                return predictions.Count(p => p.PredictedLabel == "class0") / (double)predictions.Length;
            }
            double unweighted = ShareOfA(false), weighted = ShareOfA(true);
            Assert.That(weighted, Is.GreaterThan(unweighted + 0.05), $"share of class0: {unweighted:F3} unweighted, {weighted:F3} weighted");
        }

        [Test]
        public void CancellationTokenEndsTrainingWithinAMinibatch()
        {
            var ml = new MLContext(seed: 1);
            using var cts = new CancellationTokenSource();
            var epochs = new List<int>();
            var options = new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 50, CancellationToken = cts.Token,
                EpochCallback = r => { epochs.Add(r.Epoch); if (r.Epoch == 2) cts.Cancel(); },
            };
            Assert.Throws<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, TestData.Blobs(500, 3, 4, 1), 4)));
            Assert.That(epochs, Is.EqualTo(new[] { 1, 2 }), "no epoch after the cancellation");
        }

        [Test]
        public void MLContextCancellationEndsTraining()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(500, 3, 4, 1), 4);
            var cancel = typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
            var options = new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 50, EpochCallback = r => { if (r.Epoch == 1) cancel.Invoke(ml, null); } };
            Assert.Throws<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.Mlp(options).Fit(data));
        }

        [Test]
        public void WarmStartContinuesFromALowerLoss()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(600, 4, 10, 1, spread: 1.0), 10);
            var options = new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 5, BatchSize = 32, LearningRate = 0.003f, LearningRateScaling = MlpLearningRateScaling.Uniform };
            var trainer = ml.MulticlassClassification.Trainers.Mlp(options);
            var first = trainer.Fit(data);
            var continued = trainer.Fit(data, first.Model);
            double freshStart = first.Model.TrainingHistory[0].TrainingLoss, firstEnd = first.Model.TrainingHistory[^1].TrainingLoss;
            double continuedStart = continued.Model.TrainingHistory[0].TrainingLoss;
            Assert.That(continuedStart, Is.LessThan(freshStart));
            Assert.That(continuedStart, Is.LessThan(firstEnd * 1.1), "continues where the first run ended");

            Assert.Throws<ArgumentNullException>(() => trainer.Fit(data, (MlpModelParameters)null));
            Assert.Throws<ArgumentNullException>(() => trainer.Fit(data, (IDataView)null));
            Assert.Throws<ArgumentNullException>(() => trainer.Fit(null, first.Model));

            var other = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 8 } });
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => other.Fit(data, first.Model));
            Assert.That(e.Message, Does.Contain("same architecture"));
        }

        [Test]
        public void DropoutChangesTrainingButNotScoring()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(400, 3, 10, 1), 10);
            MulticlassPredictionTransformer<MlpModelParameters> Train(float dropout) => ml.MulticlassClassification.Trainers.Mlp(
                new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 3, DropoutRate = dropout, Seed = 5 }).Fit(data);
            var plain = Train(0f);
            var dropped = Train(0.5f);
            Assert.That(dropped.Model.GetWeights(0), Is.Not.EqualTo(plain.Model.GetWeights(0)));
            var once = ml.Data.CreateEnumerable<ScoreOnly>(dropped.Transform(data), false).Select(s => s.Score).ToArray();
            var twice = ml.Data.CreateEnumerable<ScoreOnly>(dropped.Transform(data), false).Select(s => s.Score).ToArray();
            Assert.That(twice, Is.EqualTo(once), "no dropout at scoring: the same rows score the same");
        }

        [Test]
        public void LearningRateSchedulesShapeTheRate()
        {
            IReadOnlyList<MlpEpochReport> Train(MlpLearningRateSchedule schedule, LabeledRow[] rows)
            {
                var ml = new MLContext(seed: 1);
                var options = new MlpMulticlassTrainer.Options
                {
                    HiddenLayerSizes = new[] { 64 }, NumberOfEpochs = 12, BatchSize = 16, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform, LearningRateSchedule = schedule, ValidationFraction = 0.3f,
                };
                return ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, rows, rows[0].Features.Length)).Model.TrainingHistory;
            }
            var constant = Train(MlpLearningRateSchedule.Constant, TestData.Blobs(300, 3, 5, 1));
            Assert.That(constant.All(h => h.LearningRate == 0.01f), Is.True);
            var cosine = Train(MlpLearningRateSchedule.Cosine, TestData.Blobs(300, 3, 5, 1));
            for (int i = 1; i < cosine.Count; i++)
                Assert.That(cosine[i].LearningRate, Is.LessThan(cosine[i - 1].LearningRate));
            Assert.That(cosine[^1].LearningRate, Is.LessThan(0.01f * 0.01f));
            var plateau = Train(MlpLearningRateSchedule.ReduceOnPlateau, Noise(300, 20, 3)); // validation loss only rises
            Assert.That(plateau[^1].LearningRate, Is.LessThan(0.01f), "the rate was lowered on the plateau");
            Assert.That(plateau.Select(h => h.LearningRate).Distinct().Count(), Is.GreaterThan(1));
        }

        [Test]
        public void ValidationFractionIsStratifiedAndReported()
        {
            var ml = new MLContext(seed: 1);
            var reports = new List<MlpEpochReport>();
            var options = new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 3, BatchSize = 16, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform, ValidationFraction = 0.25f, EpochCallback = reports.Add,
            };
            var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, TestData.Blobs(400, 4, 5, 1), 5));
            Assert.That(reports.Select(r => r.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(reports.All(r => !double.IsNaN(r.ValidationLoss) && r.ValidationMetric >= 0 && r.ValidationMetric <= 1), Is.True);
            Assert.That(reports[^1].ValidationMetric, Is.GreaterThan(0.8), "validation accuracy of separable blobs");
            Assert.That(model.Model.TrainingHistory.Select(h => h.ValidationLoss), Is.EqualTo(reports.Select(r => r.ValidationLoss)));
            Assert.That(reports.Select(r => r.Elapsed), Is.Ordered);

            var split = MlNetMlp.Training.DataSplit.Split(400, Enumerable.Range(0, 400).Select(i => i % 4).ToArray(), 0.25f, seed: 1);
            Assert.That(split.Validation.Length, Is.EqualTo(100));
            Assert.That(split.Validation.GroupBy(r => r % 4).Select(g => g.Count()), Is.All.EqualTo(25), "each class keeps its share");
            Assert.That(split.Train.Concat(split.Validation).OrderBy(r => r), Is.EqualTo(Enumerable.Range(0, 400)));
        }

        [Test]
        public void DivergenceStopsWithAnExplanationInsteadOfReturningANaNModel()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Wave(500, 1);
            foreach (var r in rows) r.Features = r.Features.Select(f => f * 1e6f).ToArray(); // unnormalized features
            var options = new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 20, Optimizer = MlpOptimizer.Sgd, LearningRate = 10f, LearningRateScaling = MlpLearningRateScaling.Uniform };
            var e = Assert.Throws<InvalidOperationException>(() => ml.Regression.Trainers.Mlp(options).Fit(TestData.ToDataView(ml, rows, 2)));
            Assert.That(e.Message, Does.Contain("learning rate").And.Contain("normalized"));
        }

        public sealed class WeightedRow
        {
            public string Label { get; set; }
            public float[] Features { get; set; }
            public float Weight { get; set; }
        }
    }
}
