using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>EnsembleSize: members trained side by side, their outputs averaged the way the documentation says,
    /// deterministically, and saved with the model.</summary>
    public sealed class EnsembleTests
    {
        private static MlpMulticlassTrainer.Options Options(int members, int? threads = null) => new MlpMulticlassTrainer.Options
        {
            HiddenLayerSizes = new[] { 12 }, NumberOfEpochs = 6, EnsembleSize = members, NumberOfThreads = threads,
        };

        private static IDataView Keyed(MLContext ml, LabeledRow[] rows, int dims)
        {
            var data = TestData.ToDataView(ml, rows, dims);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        private static double Selu(double x) => x > 0 ? 1.0507009873554805 * x : 1.0507009873554805 * 1.6732632423543772 * (Math.Exp(x) - 1);

        /// <summary>Member <paramref name="member"/>'s class probabilities for one row, from its exposed weights.</summary>
        private static double[] MemberProbabilities(MlpModelParameters model, int member, float[] features)
        {
            var x = model.InputPreprocessing.Apply(features).Select(v => (double)v).ToArray();
            for (int layer = 0; layer < model.LayerSizes.Count - 1; layer++)
            {
                var w = model.GetWeights(layer, member);
                var b = model.GetBiases(layer, member);
                int n = model.LayerSizes[layer + 1];
                var y = new double[n];
                for (int j = 0; j < n; j++)
                {
                    double s = b[j];
                    for (int i = 0; i < x.Length; i++) s += x[i] * w[i * n + j];
                    y[j] = layer < model.LayerSizes.Count - 2 ? Selu(s) : s;
                }
                x = y;
            }
            double max = x.Max(), sum = x.Sum(v => Math.Exp(v - max));
            return x.Select(v => Math.Exp(v - max) / sum).ToArray();
        }

        [Test]
        public void ScoresAreTheMeanOfTheMembersProbabilities()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(300, classes: 3, dims: 4, seed: 11, spread: 1.0);
            var data = Keyed(ml, rows, 4);
            var model = ml.MulticlassClassification.Trainers.Mlp(Options(3)).Fit(data);
            var p = model.Model;
            Assert.That(p.EnsembleSize, Is.EqualTo(3));
            Assert.That(p.ParameterCount, Is.EqualTo(3 * (4 * 12 + 12 + 12 * 3 + 3)));
            Assert.That(p.GetWeights(0, 1), Is.Not.EqualTo(p.GetWeights(0, 0)), "members start from different weights");
            Assert.Throws<ArgumentOutOfRangeException>(() => p.GetWeights(0, 3));
            Assert.That(p.ToString(), Does.Contain("x 3 averaged"));
            var scored = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(data), false).Take(20).ToArray();
            for (int i = 0; i < scored.Length; i++)
            {
                var members = Enumerable.Range(0, 3).Select(m => MemberProbabilities(p, m, rows[i].Features)).ToArray();
                var expected = Enumerable.Range(0, 3).Select(c => members.Average(m => m[c])).ToArray();
                Assert.That(scored[i].Score.Select(v => (double)v), Is.EqualTo(expected).Within(1e-5), $"row {i}");
            }
        }

        [Test]
        public void AnEnsembleIsDeterministicWhateverTheThreadCount()
        {
            float[] Train(int threads)
            {
                var ml = new MLContext(seed: 4);
                var model = ml.MulticlassClassification.Trainers.Mlp(Options(3, threads)).Fit(Keyed(ml, TestData.Blobs(200, 3, 6, seed: 2), 6)).Model;
                return Enumerable.Range(0, 3).SelectMany(m => model.GetWeights(0, m).Concat(model.GetBiases(1, m))).ToArray();
            }
            var one = Train(1);
            Assert.That(Train(2), Is.EqualTo(one), "2 threads");
            Assert.That(Train(3), Is.EqualTo(one), "3 threads");
        }

        [Test]
        public void TheFirstMemberIsThePlainNetworkOfTheSameSeed()
        {
            // the best epoch is chosen on the ensemble's validation, so compare runs that keep the last epoch
            MlpModelParameters Train(int members)
            {
                var ml = new MLContext(seed: 1);
                var options = Options(members);
                options.EarlyStoppingPatience = 0;
                return ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, TestData.Blobs(200, 3, 5, seed: 3), 5)).Model;
            }
            var single = Train(1);
            var ensemble = Train(2);
            Assert.That(ensemble.GetWeights(0, 0), Is.EqualTo(single.GetWeights(0)), "member 0 trains exactly like a single network");
            Assert.That(ensemble.GetWeights(0, 1), Is.Not.EqualTo(single.GetWeights(0)));
        }

        [Test]
        public void AnEnsembleRoundTripsThroughModelZip()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(200, classes: 3, dims: 4, seed: 5);
            var data = Keyed(ml, rows, 4);
            var model = ml.MulticlassClassification.Trainers.Mlp(Options(3)).Fit(data);
            using var stream = new MemoryStream();
            ml.Model.Save(model, data.Schema, stream);
            stream.Position = 0;
            var loaded = ml.Model.Load(stream, out _);
            var reloaded = ((MulticlassPredictionTransformer<MlpModelParameters>)loaded).Model;
            Assert.That(reloaded.EnsembleSize, Is.EqualTo(3));
            for (int m = 0; m < 3; m++)
                Assert.That(reloaded.GetWeights(1, m), Is.EqualTo(model.Model.GetWeights(1, m)), $"member {m}");
            Assert.That(ml.Data.CreateEnumerable<ScoreOnly>(loaded.Transform(data), false).Select(s => s.Score),
                Is.EqualTo(ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(data), false).Select(s => s.Score)), "the same scores, bit for bit");
        }

        [Test]
        public void BinaryAndRegressionEnsemblesAverageTheRawOutputs()
        {
            var ml = new MLContext(seed: 1);
            var binaryRows = TestData.BinaryRings(300, seed: 2);
            var binary = ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 20, EnsembleSize = 2 })
                .Fit(TestData.ToDataView(ml, binaryRows, 2));
            Assert.That(binary.Model.SubModel.EnsembleSize, Is.EqualTo(2));
            var metrics = ml.BinaryClassification.Evaluate(binary.Transform(TestData.ToDataView(ml, binaryRows, 2)));
            Assert.That(metrics.Accuracy, Is.GreaterThan(0.8));

            var waveRows = TestData.Wave(300, seed: 3);
            var regression = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 16 }, EnsembleSize = 2 })
                .Fit(TestData.ToDataView(ml, waveRows, 2));
            Assert.That(regression.Model.EnsembleSize, Is.EqualTo(2));
            var r2 = ml.Regression.Evaluate(regression.Transform(TestData.ToDataView(ml, waveRows, 2))).RSquared;
            Assert.That(r2, Is.GreaterThan(0.5));
        }

        [Test]
        public void WarmStartNeedsTheSameEnsembleSize()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(100, 3, 4, seed: 6), 4);
            var first = ml.MulticlassClassification.Trainers.Mlp(Options(2)).Fit(data).Model;
            var continued = ml.MulticlassClassification.Trainers.Mlp(Options(2)).Fit(data, first).Model;
            Assert.That(continued.EnsembleSize, Is.EqualTo(2));
            var e = Assert.Catch<Exception>(() => ml.MulticlassClassification.Trainers.Mlp(Options(3)).Fit(data, first));
            Assert.That(e.Message, Does.Contain("2 members").And.Contain("EnsembleSize is 3"));
        }

        [Test]
        public void MemberSeedsAreTheSameInEveryProcess()
        {
            // SplitMix64 of (seed + golden ratio x (4 member + stream)): fixed values, not System.HashCode's per-process ones
            Assert.That(MlNetMlp.Training.MemberSeeds.For(7, 0, MlNetMlp.Training.MemberSeeds.Stream.Weights), Is.EqualTo(7ul), "member 0 keeps the seed");
            ulong z = unchecked(7 + 0x9E3779B97F4A7C15ul * 5);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBul);
            Assert.That(MlNetMlp.Training.MemberSeeds.For(7, 1, MlNetMlp.Training.MemberSeeds.Stream.Weights), Is.EqualTo(z ^ (z >> 31)));
            Assert.That(MlNetMlp.Training.MemberSeeds.For(7, 1, MlNetMlp.Training.MemberSeeds.Stream.Shuffle),
                Is.Not.EqualTo(MlNetMlp.Training.MemberSeeds.For(7, 1, MlNetMlp.Training.MemberSeeds.Stream.Weights)));
        }

        [TestCase(0)]
        [TestCase(65)]
        public void EnsembleSizeOutOfRangeIsAClearError(int size)
        {
            var ml = new MLContext(seed: 1);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.Mlp(Options(size)));
            Assert.That(e.ParamName, Is.EqualTo("EnsembleSize"));
        }
    }
}
