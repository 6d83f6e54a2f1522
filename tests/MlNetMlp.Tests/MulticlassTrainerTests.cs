using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    public sealed class MulticlassTrainerTests
    {
        private static IEstimator<ITransformer> Pipeline(MLContext ml, MlpMulticlassTrainer.Options options) =>
            ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.MulticlassClassification.Trainers.Mlp(options))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

        private static MlpMulticlassTrainer.Options Small(int[] hidden, int epochs = 40) =>
            new MlpMulticlassTrainer.Options { HiddenLayerSizes = hidden, NumberOfEpochs = epochs, BatchSize = 32, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform };

        [Test]
        public void LearnsConcentricRingsThatNoLinearModelCanSeparate()
        {
            var ml = new MLContext(seed: 1);
            var train = TestData.ToDataView(ml, TestData.Rings(1000, seed: 1), 2);
            var test = TestData.ToDataView(ml, TestData.Rings(500, seed: 2), 2);

            var mlp = Pipeline(ml, Small(new[] { 32, 16 })).Fit(train);
            var mlpMetrics = ml.MulticlassClassification.Evaluate(mlp.Transform(test));
            var linear = Pipeline(ml, Small(Array.Empty<int>())).Fit(train);
            var linearMetrics = ml.MulticlassClassification.Evaluate(linear.Transform(test));

            Assert.That(mlpMetrics.MicroAccuracy, Is.GreaterThanOrEqualTo(0.95), "MLP accuracy on rings");
            Assert.That(linearMetrics.MicroAccuracy, Is.LessThan(0.75), "a linear model cannot separate rings");
            Assert.That(mlpMetrics.LogLoss, Is.LessThan(linearMetrics.LogLoss));
        }

        [Test]
        public void EvaluatePredictionEngineAndTransformAgree()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(600, classes: 3, dims: 5, seed: 4);
            var data = TestData.ToDataView(ml, rows, 5);
            var model = Pipeline(ml, Small(new[] { 16 }, epochs: 10)).Fit(data);

            var scored = model.Transform(data);
            var metrics = ml.MulticlassClassification.Evaluate(scored);
            Assert.That(metrics.MicroAccuracy, Is.GreaterThan(0.9));
            Assert.That(metrics.ConfusionMatrix.NumberOfClasses, Is.EqualTo(3));

            // Score has slot names = class names; PredictedLabel maps back to the original strings.
            VBuffer<ReadOnlyMemory<char>> slotNames = default;
            scored.Schema["Score"].GetSlotNames(ref slotNames);
            Assert.That(slotNames.DenseValues().Select(s => s.ToString()), Is.EquivalentTo(new[] { "class0", "class1", "class2" }));

            var batch = ml.Data.CreateEnumerable<MulticlassPrediction>(scored, reuseRowObject: false).ToArray();
            var engine = ml.Model.CreatePredictionEngine<LabeledRow, MulticlassPrediction>(model, inputSchemaDefinition: TestData.Schema(5));
            for (int i = 0; i < rows.Length; i += 37)
            {
                var single = engine.Predict(rows[i]);
                Assert.That(single.Score, Is.EqualTo(batch[i].Score), "PredictionEngine and Transform give bit-identical scores");
                Assert.That(single.PredictedLabel, Is.EqualTo(batch[i].PredictedLabel));
                Assert.That(single.Score.Sum(), Is.EqualTo(1f).Within(1e-5f));
                Assert.That(single.PredictedLabel, Is.EqualTo(slotNames.GetItemOrDefault(Array.IndexOf(single.Score, single.Score.Max())).ToString()));
            }
        }

        private static MlpMulticlassTrainer.Options SingleNetwork(MlpMulticlassTrainer.Options o)
        {
            o.EnsembleSize = 1;
            return o;
        }

        private static double Selu(double x) => x > 0 ? 1.0507009873554805 * x : 1.0507009873554805 * 1.6732632423543772 * (Math.Exp(x) - 1);

        [Test]
        public void ModelParametersExposeLayersAndWeightsInRowMajorInOutLayout()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(300, classes: 3, dims: 4, seed: 5);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 4)).Transform(TestData.ToDataView(ml, rows, 4));
            var transformer = ml.MulticlassClassification.Trainers.Mlp(SingleNetwork(Small(new[] { 7, 5 }, epochs: 5))).Fit(data);
            var model = transformer.Model;

            Assert.That(model.LayerSizes, Is.EqualTo(new[] { 4, 7, 5, 3 }));
            Assert.That(model.ParameterCount, Is.EqualTo(4 * 7 + 7 + 7 * 5 + 5 + 5 * 3 + 3));
            Assert.That(model.TrainingHistory.Count, Is.EqualTo(5));
            Assert.Throws<ArgumentOutOfRangeException>(() => model.GetWeights(3));

            // Recompute the forward pass from the exposed preprocessing and weights: out[j] = sum_i in[i] * W[i * out + j] + b[j].
            var p = model.InputPreprocessing;
            Assert.That(p.SmoothClip, Is.True, "features are normalized by default");
            var x = rows[0].Features.Select((v, j) =>
            {
                double z = (v - p.Centers[j]) * (double)p.Scales[j];
                return z / Math.Sqrt(1 + z * z / 9);
            }).ToArray();
            for (int layer = 0; layer < 3; layer++)
            {
                var w = model.GetWeights(layer);
                var b = model.GetBiases(layer);
                int n = model.LayerSizes[layer + 1];
                Assert.That(w.Length, Is.EqualTo(x.Length * n));
                var y = new double[n];
                for (int j = 0; j < n; j++)
                {
                    double s = b[j];
                    for (int i = 0; i < x.Length; i++) s += x[i] * w[i * n + j];
                    y[j] = layer < 2 ? Selu(s) : s;
                }
                x = y;
            }
            double max = x.Max();
            var expected = x.Select(v => Math.Exp(v - max) / x.Sum(u => Math.Exp(u - max))).ToArray();
            var scored = ml.Data.CreateEnumerable<ScoreOnly>(transformer.Transform(data), false).First();
            Assert.That(scored.Score.Select(v => (double)v), Is.EqualTo(expected).Within(1e-5));
        }

        [Test]
        public void SameSeedGivesIdenticalModelsWhateverTheThreadCount()
        {
            float[] Train(int threads)
            {
                var ml = new MLContext(seed: 3);
                var rows = TestData.Blobs(500, classes: 4, dims: 40, seed: 6);
                var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 40)).Transform(TestData.ToDataView(ml, rows, 40));
                var options = Small(new[] { 64, 32 }, epochs: 3);
                options.NumberOfThreads = threads;
                var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(data).Model;
                return model.GetWeights(0).Concat(model.GetWeights(1)).Concat(model.GetBiases(2)).ToArray();
            }
            var one = Train(1);
            Assert.That(Train(1), Is.EqualTo(one), "same seed, same thread count");
            Assert.That(Train(2), Is.EqualTo(one), "2 threads");
            Assert.That(Train(3), Is.EqualTo(one), "3 threads");
        }

        [Test]
        public void SchemaErrorsSayWhatToDo()
        {
            var ml = new MLContext(seed: 1);
            var trainer = ml.MulticlassClassification.Trainers.Mlp();
            var rows = TestData.Rings(20, 1);

            // Label is a string, not a key.
            var stringLabel = TestData.ToDataView(ml, rows, 2);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(TestData.Shape(stringLabel.Schema)));
            Assert.That(e.Message, Does.Contain("MapValueToKey"));
            e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(stringLabel));
            Assert.That(e.Message, Does.Contain("MapValueToKey"));

            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(stringLabel).Transform(stringLabel);

            // No Features column.
            var noFeatures = ml.Transforms.CopyColumns("Other", "Features").Fit(keyed).Transform(keyed);
            noFeatures = ml.Transforms.DropColumns("Features").Fit(noFeatures).Transform(noFeatures);
            e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(TestData.Shape(noFeatures.Schema)));
            Assert.That(e.Message, Does.Contain("Features"));
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(noFeatures));

            // Features of unknown size.
            var variable = ml.Data.LoadFromEnumerable(rows);
            variable = ml.Transforms.Conversion.MapValueToKey("Label").Fit(variable).Transform(variable);
            e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(TestData.Shape(variable.Schema)));
            Assert.That(e.Message, Does.Contain("Features").And.Contain("Vector<Single>"));
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(variable));

            // Features of the wrong item type.
            var doubles = ml.Transforms.Conversion.ConvertType("Features", outputKind: DataKind.Double).Fit(keyed).Transform(keyed);
            e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(doubles));
            Assert.That(e.Message, Does.Contain("Features"));
        }

        [Test]
        public void ScoringWithADifferentFeatureCountIsASchemaError()
        {
            var ml = new MLContext(seed: 1);
            var model = Pipeline(ml, Small(new[] { 4 }, epochs: 1)).Fit(TestData.ToDataView(ml, TestData.Rings(50, 1), 2));
            var wider = TestData.ToDataView(ml, TestData.Rings(10, 2, noiseFeatures: 1), 3);
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(wider));
        }

        [TestCase(nameof(MlpTrainerOptionsBase.LearningRate))]
        [TestCase(nameof(MlpTrainerOptionsBase.BatchSize))]
        [TestCase(nameof(MlpTrainerOptionsBase.NumberOfEpochs))]
        [TestCase(nameof(MlpTrainerOptionsBase.HiddenLayerSizes))]
        [TestCase(nameof(MlpTrainerOptionsBase.Momentum))]
        [TestCase(nameof(MlpTrainerOptionsBase.L2Regularization))]
        [TestCase(nameof(MlpTrainerOptionsBase.NumberOfThreads))]
        [TestCase(nameof(MlpTrainerOptionsBase.ValidationFraction))]
        [TestCase(nameof(MlpTrainerOptionsBase.Activation))]
        [TestCase(nameof(MlpTrainerOptionsBase.WeightDecay))]
        [TestCase(nameof(MlpTrainerOptionsBase.DropoutRate))]
        [TestCase(nameof(MlpTrainerOptionsBase.EarlyStoppingPatience))]
        [TestCase(nameof(MlpTrainerOptionsBase.LearningRateSchedule))]
        public void InvalidOptionsAreRejectedByName(string option)
        {
            var o = new MlpMulticlassTrainer.Options();
            switch (option)
            {
                case nameof(o.LearningRate): o.LearningRate = float.NaN; break;
                case nameof(o.BatchSize): o.BatchSize = 0; break;
                case nameof(o.NumberOfEpochs): o.NumberOfEpochs = -1; break;
                case nameof(o.HiddenLayerSizes): o.HiddenLayerSizes = new[] { 16, 0 }; break;
                case nameof(o.Momentum): o.Momentum = 1f; break;
                case nameof(o.L2Regularization): o.L2Regularization = -0.1f; break;
                case nameof(o.NumberOfThreads): o.NumberOfThreads = 100_000; break;
                case nameof(o.ValidationFraction): o.ValidationFraction = 1f; break;
                case nameof(o.Activation): o.Activation = (MlpActivation)42; break;
                case nameof(o.WeightDecay): o.WeightDecay = float.PositiveInfinity; break;
                case nameof(o.DropoutRate): o.DropoutRate = 1f; break;
                case nameof(o.EarlyStoppingPatience): o.EarlyStoppingPatience = -1; break;
                case nameof(o.LearningRateSchedule): o.LearningRateSchedule = (MlpLearningRateSchedule)9; break;
            }
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().MulticlassClassification.Trainers.Mlp(o));
            Assert.That(e.ParamName, Is.EqualTo(option));
            Assert.That(e.Message, Does.Contain(option));
        }

        [Test]
        public void MissingFeaturesAreImputedAndBadLabelsSkippedAndCountedInTheLog()
        {
            var ml = new MLContext(seed: 1);
            var messages = new List<string>();
            ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
            var rows = TestData.Rings(200, 1).ToList();
            rows[3].Features[0] = float.NaN;
            rows[7].Features[1] = float.PositiveInfinity;
            rows[9].Features[1] = float.NaN;
            rows[11].Label = null; // a missing label: no example
            var data = TestData.ToDataView(ml, rows, 2);
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var model = ml.MulticlassClassification.Trainers.Mlp(Small(new[] { 8 }, epochs: 2)).Fit(keyed);
            Assert.That(messages, Has.Some.Contains("Skipped 1 of 200 training rows: 1 with a missing or out-of-range label"));
            Assert.That(messages, Has.Some.Contains("Imputed 3 missing (NaN or infinite) feature values in 2 of 2 columns"));
            Assert.That(model.Model.LayerSizes[0], Is.EqualTo(4), "two features and a missing indicator for each");
            Assert.That(messages, Has.Some.Contains("epoch 2/2"), "one log line per epoch");
            Assert.That(model.Model.TrainingHistory.Count, Is.EqualTo(2));
        }

        [Test]
        public void OneClassOnlyIsAClearError()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Rings(40, 1).Where(r => r.Label == "inner").ToArray();
            var data = TestData.ToDataView(ml, rows, 2);
            var e = Assert.Catch<Exception>(() => Pipeline(ml, Small(new[] { 4 }, 1)).Fit(data));
            Assert.That(e.Message, Does.Contain("at least two"));
        }

        [Test]
        public void BatchLargerThanTheDataWorks()
        {
            var ml = new MLContext(seed: 1);
            var options = Small(new[] { 8 }, epochs: 3);
            options.BatchSize = 10_000;
            var model = Pipeline(ml, options).Fit(TestData.ToDataView(ml, TestData.Rings(30, 1), 2));
            Assert.That(model, Is.Not.Null);
        }
    }
}
