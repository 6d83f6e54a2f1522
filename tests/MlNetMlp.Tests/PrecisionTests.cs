using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using MlNetMlp.Interop;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary><see cref="MlpTrainerOptionsBase.Precision"/>: bfloat16 training GEMMs where the CPU has AVX512_BF16
    /// (close to float32, not identical to it, deterministic), a logged fallback to float32 elsewhere.</summary>
    public sealed class PrecisionTests
    {
        private static readonly LabeledRow[] All = TestData.Blobs(1500, classes: 3, dims: 24, seed: 7, spread: 2.0);

        private static (MlpModelParameters Model, double Accuracy, List<string> Log) Fit(MlpPrecision precision, int threads = 1)
        {
            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, All, 24));
            var options = new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 64, 32 }, NumberOfEpochs = 10, EnsembleSize = 1, NumberOfThreads = threads,
                EarlyStoppingPatience = 0, Precision = precision, Seed = 2,
            };
            var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(keys.Transform(TestData.ToDataView(ml, All.Take(1000), 24)));
            var test = model.Transform(keys.Transform(TestData.ToDataView(ml, All.Skip(1000), 24)));
            return (model.Model, ml.MulticlassClassification.Evaluate(test).MicroAccuracy, log);
        }

        [Test]
        public void BFloat16TrainsLikeFloat32WhereTheCpuHasIt()
        {
            var f32 = Fit(MlpPrecision.Float32);
            var bf16 = Fit(MlpPrecision.BFloat16);
            var first = bf16.Model.GetWeights(0);
            if (NativeMethods.mlp_has_bfloat16() == 0)
            {
                Assert.That(bf16.Log, Has.Some.Contains("needs AVX512_BF16").And.Contains("training in Float32"));
                Assert.That(first, Is.EqualTo(f32.Model.GetWeights(0)), "the fallback is float32 training itself");
                return;
            }
            Assert.That(bf16.Log, Has.Some.Contains("bfloat16 copies"));
            Assert.That(first, Is.Not.EqualTo(f32.Model.GetWeights(0)), "the bfloat16 GEMMs ran");
            Assert.That(bf16.Accuracy, Is.EqualTo(f32.Accuracy).Within(0.02), $"bfloat16 {bf16.Accuracy:F4}, float32 {f32.Accuracy:F4}");
            Assert.That(Fit(MlpPrecision.BFloat16, threads: 2).Model.GetWeights(0), Is.EqualTo(first), "bit-identical for 1 and 2 threads");
        }

        /// <summary>A row of the scored output.</summary>
        public sealed class Scored
        {
            public float[] Score { get; set; }
        }

        [Test]
        public void BFloat16ScoringIsCloseToFloat32AndTheSameAloneAsInABatch()
        {
            var ml = new MLContext(seed: 1);
            var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, All, 24));
            var data = keys.Transform(TestData.ToDataView(ml, All.Take(300), 24));
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 64, 32 }, NumberOfEpochs = 3, EnsembleSize = 2, NumberOfThreads = 1, Seed = 2,
            }).Fit(data);
            float[][] Scores() => ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(r => r.Score).ToArray();
            var f32 = Scores();
            Assert.That(model.Model.ScoringPrecision, Is.EqualTo(MlpPrecision.Float32));
            if (NativeMethods.mlp_has_bfloat16() == 0)
            {
                var e = Assert.Throws<NotSupportedException>(() => model.Model.ScoringPrecision = MlpPrecision.BFloat16);
                Assert.That(e.Message, Does.Contain("AVX512_BF16"));
                return;
            }
            var early = ml.Model.CreatePredictionEngine<LabeledRow, Scored>(model, inputSchemaDefinition: TestData.Schema(24));
            model.Model.ScoringPrecision = MlpPrecision.BFloat16;
            Assert.That(model.Model.ScoringPrecision, Is.EqualTo(MlpPrecision.BFloat16));
            var bf16 = Scores();
            Assert.That(early.Predict(All[0]).Score, Is.EqualTo(bf16[0]), "an engine created before the change follows it");
            double worst = f32.Zip(bf16, (a, b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max()).Max();
            Assert.That(worst, Is.GreaterThan(0).And.LessThan(0.02), "bfloat16 against float32 probabilities");
            var engine = ml.Model.CreatePredictionEngine<LabeledRow, Scored>(model, inputSchemaDefinition: TestData.Schema(24));
            var rows = All.Take(20).ToArray();
            for (int i = 0; i < rows.Length; i++)
                Assert.That(engine.Predict(rows[i]).Score, Is.EqualTo(bf16[i]), $"row {i} alone against the batch");
            model.Model.ScoringPrecision = MlpPrecision.Float32;
            Assert.That(Scores(), Is.EqualTo(f32), "back to float32 scoring");
        }

        [Test]
        public void AnUnknownPrecisionIsRefused()
        {
            var ml = new MLContext(seed: 1);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
                ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { Precision = (MlpPrecision)7 }));
            Assert.That(e.ParamName, Is.EqualTo("Precision"));
        }
    }
}
