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
