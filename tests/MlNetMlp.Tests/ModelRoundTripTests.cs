using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>model.zip written here is loaded by a separate process that references MlNetMlp but registers nothing,
    /// and it must reproduce the scores bit for bit.</summary>
    public sealed class ModelRoundTripTests
    {
        private static string LoaderPath => typeof(ModelRoundTripTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "ModelLoaderPath").Value;

        [Test]
        public void FreshProcessLoadsModelZipAndReproducesScoresBitForBit()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(400, classes: 3, dims: 6, seed: 9);
            var data = TestData.ToDataView(ml, rows, 6);
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features"))
                .Append(ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 12, 8 }, NumberOfEpochs = 3 }))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
            var model = pipeline.Fit(data);
            var expected = ml.Data.CreateEnumerable<MulticlassPrediction>(model.Transform(data), reuseRowObject: false).ToArray();

            var dir = Path.Combine(Path.GetTempPath(), "mlnetmlp-roundtrip-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                var modelPath = Path.Combine(dir, "model.zip");
                ml.Model.Save(model, data.Schema, modelPath);
                var rowsPath = Path.Combine(dir, "rows.tsv");
                File.WriteAllLines(rowsPath, rows.Select(r => r.Label + "\t" + string.Join(",", r.Features.Select(Hex))));
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
                Assert.That(process.Id, Is.Not.EqualTo(Environment.ProcessId));

                var lines = File.ReadAllLines(scoresPath);
                Assert.That(lines.Length, Is.EqualTo(expected.Length));
                for (int i = 0; i < lines.Length; i++)
                {
                    var parts = lines[i].Split('\t');
                    Assert.That(parts[0], Is.EqualTo(expected[i].PredictedLabel), $"row {i} label");
                    Assert.That(parts[1], Is.EqualTo(string.Join(",", expected[i].Score.Select(Hex))), $"row {i} scores");
                }
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
        }

        private static string Hex(float f) => BitConverter.SingleToInt32Bits(f).ToString("X8", CultureInfo.InvariantCulture);
    }
}
