using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using MlNetMlp.TestShared;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>model.zip written here is loaded by a separate process that references MlNetMlp but registers nothing,
    /// and it must reproduce the scores bit for bit, for each trainer.</summary>
    public sealed class ModelRoundTripTests
    {
        private static string LoaderPath => typeof(ModelRoundTripTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "ModelLoaderPath").Value;

        private static MlpMulticlassTrainer.Options Multiclass() => new() { HiddenLayerSizes = new[] { 12, 8 }, NumberOfEpochs = 3, EnsembleSize = 2 };

        [Test]
        public void MulticlassModelZipReproducesScoresInAFreshProcess()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(400, classes: 3, dims: 6, seed: 9);
            for (int i = 0; i < rows.Length; i += 9) rows[i].Features[2] = float.NaN; // imputed, with an indicator, in both processes
            var data = TestData.ToDataView(ml, rows, 6);
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features"))
                .Append(ml.MulticlassClassification.Trainers.Mlp(Multiclass()))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
                .Fit(data);
            AssertFreshProcessReproduces(ml, model, data, rows.Select(r => (r.Label, r.Features)).ToArray());
        }

        [TestCase(MlpBinaryLoss.LogLoss)]
        [TestCase(MlpBinaryLoss.Hinge)]
        public void BinaryModelZipReproducesScoresInAFreshProcess(MlpBinaryLoss loss)
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.BinaryRings(300, seed: 3);
            var data = TestData.ToDataView(ml, rows, 2);
            var model = ml.Transforms.NormalizeMinMax("Features")
                .Append(ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 5, LossFunction = loss }))
                .Fit(data);
            AssertFreshProcessReproduces(ml, model, data, rows.Select(r => (r.Label.ToString(), r.Features)).ToArray());
        }

        [Test]
        public void RegressionModelZipReproducesScoresInAFreshProcess()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Wave(300, seed: 3);
            var data = TestData.ToDataView(ml, rows, 2);
            var model = ml.Transforms.NormalizeMinMax("Features")
                .Append(ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 5 }))
                .Fit(data);
            AssertFreshProcessReproduces(ml, model, data, rows.Select(r => (r.Label.ToString(), r.Features)).ToArray());
        }

        private static void AssertFreshProcessReproduces(MLContext ml, ITransformer model, IDataView data, (string Label, float[] Features)[] rows)
        {
            var expected = ScoredRows.Read(model.Transform(data));
            var dir = Path.Combine(Path.GetTempPath(), "mlnetmlp-roundtrip-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                var modelPath = Path.Combine(dir, "model.zip");
                ml.Model.Save(model, data.Schema, modelPath);
                var rowsPath = Path.Combine(dir, "rows.tsv");
                File.WriteAllLines(rowsPath, rows.Select(r => r.Label + "\t" + string.Join(",", r.Features.Select(ScoredRows.ToHex))));
                var scoresPath = Path.Combine(dir, "scores.tsv");

                Assert.That(File.Exists(LoaderPath), Is.True, $"loader not built at {LoaderPath}");
                var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var arg in new[] { LoaderPath, modelPath, rowsPath, scoresPath })
                    start.ArgumentList.Add(arg);
                using var process = Process.Start(start);
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                Assert.That(process.WaitForExit(120_000), Is.True, "loader process timed out");
                Assert.That(process.ExitCode, Is.EqualTo(0), $"loader failed: {stdout.Result}{stderr.Result}");

                var lines = File.ReadAllLines(scoresPath);
                Assert.That(lines, Is.EqualTo(expected), "scores from the fresh process");
                Assert.That(expected.Distinct().Count(), Is.GreaterThan(1), "the model should not score every row alike");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Test]
        public void InProcessReloadKeepsArchitectureHistoryAndScores()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(200, classes: 3, dims: 4, seed: 2);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 4)).Transform(TestData.ToDataView(ml, rows, 4));
            var trained = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 5 }, NumberOfEpochs = 2 }).Fit(data);
            using var stream = new MemoryStream();
            ml.Model.Save(trained, data.Schema, stream);
            stream.Position = 0;
            var loaded = ml.Model.Load(stream, out _);
            var parameters = ((Microsoft.ML.Data.MulticlassPredictionTransformer<MlpModelParameters>)loaded).Model;
            Assert.That(parameters.LayerSizes, Is.EqualTo(trained.Model.LayerSizes));
            Assert.That(parameters.GetWeights(0), Is.EqualTo(trained.Model.GetWeights(0)));
            Assert.That(parameters.TrainingHistory.Select(h => h.TrainingLoss), Is.EqualTo(trained.Model.TrainingHistory.Select(h => h.TrainingLoss)));
            Assert.That(loaded.GetOutputSchema(data.Schema).Select(c => (c.Name, c.Type.ToString())),
                Is.EqualTo(trained.GetOutputSchema(data.Schema).Select(c => (c.Name, c.Type.ToString()))), "same output schema after reload");
        }
    }
}
