using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>The trainer's input preprocessing: statistics against an independent computation, imputation and
    /// missing indicators, scoring (single row = batch) applying exactly the training-time transform, and scale
    /// invariance.</summary>
    public sealed class PreprocessingTests
    {
        private static MlpMulticlassTrainer.Options Small(int epochs = 30) =>
            new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = epochs, BatchSize = 32, LearningRate = 0.01f, LearningRateScaling = MlpLearningRateScaling.Uniform };

        /// <summary>Blobs whose columns live on very different scales, with NaN in column 2 (about one row in seven)
        /// and one outlier in column 0.</summary>
        private static LabeledRow[] Table(int count, int seed, bool withNaN = true)
        {
            var rows = TestData.Blobs(count, classes: 3, dims: 4, seed: seed, spread: 0.7);
            var scales = new[] { 1e4f, 1e-3f, 7f, 1f };
            foreach (var r in rows)
                for (int j = 0; j < 4; j++)
                    r.Features[j] = r.Features[j] * scales[j] + j * 100;
            if (withNaN)
                for (int i = 0; i < rows.Length; i += 7)
                    rows[i].Features[2] = float.NaN;
            rows[5].Features[0] = 1e9f;
            return rows;
        }

        private static double Quantile(double[] sorted, double q)
        {
            double position = q * (sorted.Length - 1);
            int lo = (int)Math.Floor(position), hi = Math.Min(lo + 1, sorted.Length - 1);
            return sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
        }

        [Test]
        public void StatisticsAreTheMedianAndInterquartileRangeOfTheTrainingRows()
        {
            var ml = new MLContext(seed: 1);
            var rows = Table(301, seed: 4);
            rows[10].Features[3] = float.PositiveInfinity;
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 4)).Transform(TestData.ToDataView(ml, rows, 4));
            var options = Small(2);
            options.ValidationFraction = 0;
            var p = ml.MulticlassClassification.Trainers.Mlp(options).Fit(data).Model.InputPreprocessing;
            for (int j = 0; j < 4; j++)
            {
                var v = rows.Select(r => (double)r.Features[j]).Where(double.IsFinite).OrderBy(x => x).ToArray();
                double median = Quantile(v, 0.5), iqr = Quantile(v, 0.75) - Quantile(v, 0.25);
                Assert.That(p.FillValues[j], Is.EqualTo(median).Within(1e-6 * Math.Abs(median) + 1e-9), $"median of column {j}");
                Assert.That(p.Centers[j], Is.EqualTo(p.FillValues[j]), $"centre of column {j}");
                Assert.That(p.Scales[j], Is.EqualTo(1 / iqr).Within(1e-6 / iqr), $"1 / IQR of column {j}");
            }
            Assert.That(p.SmoothClip, Is.True);
            Assert.That(p.MissingIndicatorColumns, Is.EqualTo(new[] { 2, 3 }), "columns with NaN or infinite values in training");
        }

        [Test]
        public void ConstantColumnsAndColumnsWithCoincidingQuartilesAreHandled()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(200, classes: 2, dims: 3, seed: 2);
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i].Features[1] = 5f;                      // constant
                rows[i].Features[2] = i % 10 == 0 ? 3f : 1f;   // quartiles coincide: 2 / range
            }
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 3)).Transform(TestData.ToDataView(ml, rows, 3));
            var options = Small(2);
            options.ValidationFraction = 0;
            var p = ml.MulticlassClassification.Trainers.Mlp(options).Fit(data).Model.InputPreprocessing;
            Assert.That(p.Scales[1], Is.EqualTo(0f), "a constant column scales to 0");
            Assert.That(p.Scales[2], Is.EqualTo(1f).Within(1e-7), "2 / (max - min) when the quartiles coincide");
            Assert.That(p.Centers[2], Is.EqualTo(1f));
        }

        [Test]
        public void NormalizeFeaturesOffImputesButDoesNotScale()
        {
            var ml = new MLContext(seed: 1);
            var rows = Table(200, seed: 3);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 4)).Transform(TestData.ToDataView(ml, rows, 4));
            var options = Small(2);
            options.NormalizeFeatures = false;
            options.ValidationFraction = 0;
            var p = ml.MulticlassClassification.Trainers.Mlp(options).Fit(data).Model.InputPreprocessing;
            Assert.That(p.Centers, Is.All.EqualTo(0f));
            Assert.That(p.Scales, Is.All.EqualTo(1f));
            Assert.That(p.SmoothClip, Is.False);
            Assert.That(p.MissingIndicatorColumns, Is.EqualTo(new[] { 2 }));
            var finite = rows.Select(r => (double)r.Features[2]).Where(double.IsFinite).OrderBy(x => x).ToArray();
            Assert.That(p.FillValues[2], Is.EqualTo(Quantile(finite, 0.5)).Within(1e-4));
        }

        [Test]
        public void MissingValuesAreImputedAtScoringAndNeverSwallowed()
        {
            var ml = new MLContext(seed: 1);
            var rows = Table(300, seed: 5);
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Mlp(Small())).Fit(TestData.ToDataView(ml, rows, 4));
            var parameters = ((MulticlassPredictionTransformer<MlpModelParameters>)model.LastTransformer).Model;
            var p = parameters.InputPreprocessing;
            var engine = ml.Model.CreatePredictionEngine<LabeledRow, ScoreOnly>(model, inputSchemaDefinition: TestData.Schema(4));

            // A row of NaN scores as the row of fill values with every indicator set: finite, the imputation rule.
            var allMissing = engine.Predict(new LabeledRow { Label = "class0", Features = Enumerable.Repeat(float.NaN, 4).ToArray() }).Score;
            var fills = p.FillValues.ToArray();
            Assert.That(allMissing, Is.All.Matches<float>(float.IsFinite), "NaN features give finite scores");
            long before = parameters.ImputedValuesAtScoring;
            Assert.That(before, Is.EqualTo(4), "the four imputed values are counted");

            // Column 0 had no NaN in training: a NaN there is imputed with its median (no indicator) and counted.
            var row = (float[])rows[1].Features.Clone();
            var withFill = (float[])row.Clone();
            withFill[0] = fills[0];
            row[0] = float.NaN;
            Assert.That(engine.Predict(new LabeledRow { Label = "class0", Features = row }).Score,
                Is.EqualTo(engine.Predict(new LabeledRow { Label = "class0", Features = withFill }).Score), "NaN in column 0 = its median");
            Assert.That(parameters.ImputedValuesAtScoring, Is.EqualTo(before + 1));

            // Column 2 had NaN in training: imputed with its median and its indicator set, which changes the score.
            var missing2 = (float[])rows[1].Features.Clone();
            missing2[2] = float.NaN;
            var median2 = (float[])rows[1].Features.Clone();
            median2[2] = fills[2];
            Assert.That(engine.Predict(new LabeledRow { Label = "class0", Features = missing2 }).Score,
                Is.Not.EqualTo(engine.Predict(new LabeledRow { Label = "class0", Features = median2 }).Score), "the indicator is an input");
        }

        [Test]
        public void SingleRowsScoreExactlyLikeTheBatchAndThePublishedTransform()
        {
            var ml = new MLContext(seed: 1);
            var rows = Table(240, seed: 6);
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Mlp(Small(10))).Fit(TestData.ToDataView(ml, rows, 4));
            var test = Table(60, seed: 6);
            var batch = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(TestData.ToDataView(ml, test, 4)), false).ToArray();
            var engine = ml.Model.CreatePredictionEngine<LabeledRow, ScoreOnly>(model, inputSchemaDefinition: TestData.Schema(4));
            for (int i = 0; i < test.Length; i++)
                Assert.That(engine.Predict(test[i]).Score, Is.EqualTo(batch[i].Score), $"row {i}: one row alone = in a batch, bit for bit");

            // The managed mirror of the transform (InputPreprocessing.Apply) gives the network's inputs bit for bit.
            var parameters = ((MulticlassPredictionTransformer<MlpModelParameters>)model.LastTransformer).Model;
            var inputs = parameters.InputPreprocessing.Apply(test[0].Features);
            Assert.That(inputs.Length, Is.EqualTo(parameters.LayerSizes[0]));
            Assert.That(inputs.Take(4), Is.All.InRange(-3f, 3f), "smoothly clipped");
        }

        [Test]
        public void RawNormalizedAndHugelyScaledCopiesTrainToTheSameAccuracy()
        {
            double Accuracy(Func<float[], float[]> map)
            {
                var ml = new MLContext(seed: 1);
                LabeledRow[] Mapped(LabeledRow[] source) => source.Select(r => new LabeledRow { Label = r.Label, Features = map(r.Features) }).ToArray();
                // 2,000 test rows: the copies' trajectories differ in the last bits, which moves a few predictions
                var all = Mapped(Table(3000, seed: 8));
                var train = TestData.ToDataView(ml, all.Take(1000), 4);
                var test = TestData.ToDataView(ml, all.Skip(1000), 4);
                var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Mlp(Small())).Fit(train);
                return ml.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
            }
            double raw = Accuracy(f => f);
            double scaled = Accuracy(f => f.Select(v => v * 1e30f).ToArray());
            double standardized = Accuracy(f => f.Select((v, j) => (v - j * 100) / 10).ToArray());
            Assert.That(raw, Is.GreaterThan(0.8), "the blobs are learnable");
            Assert.That(scaled, Is.EqualTo(raw).Within(0.005), "x 1e30");
            Assert.That(standardized, Is.EqualTo(raw).Within(0.005), "already normalized");
        }
    }
}
