using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.TestShared;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Model files are a promise: every model.zip written by an earlier release keeps loading and scoring the
    /// same. <c>Compatibility/&lt;release&gt;/</c> holds, per model kind, a model.zip written by that release, the rows
    /// it was scored on and the scores it produced then (floats as 32-bit hex); this release must reproduce them bit
    /// for bit. <see cref="WriteFixtures"/> writes a new release's set (run it explicitly, once per release).</summary>
    public sealed class ModelCompatibilityTests
    {
        private static readonly string FixtureRoot = Path.Combine(TestContext.CurrentContext.TestDirectory, "Compatibility");

        /// <summary>Releases whose files this release must read: (folder, model kinds).</summary>
        private static readonly string[] Releases = { "v0.1.0" };
        private static readonly string[] Kinds = { "multiclass", "binary-logloss", "binary-hinge", "regression" };

        private static System.Collections.Generic.IEnumerable<TestCaseData> Fixtures() =>
            Releases.SelectMany(r => Kinds.Select(k => new TestCaseData(r, k).SetName($"ModelFrom_{r}_{k}_ScoresTheSame")));

        [TestCaseSource(nameof(Fixtures))]
        public void ModelFromAnEarlierReleaseScoresTheSame(string release, string kind)
        {
            var dir = Path.Combine(FixtureRoot, release, kind);
            Assert.That(File.Exists(Path.Combine(dir, "model.zip")), Is.True, $"fixture missing: {dir}");
            var rows = ReadRows(Path.Combine(dir, "rows.tsv"));
            var expected = File.ReadAllLines(Path.Combine(dir, "scores.tsv"));
            var ml = new MLContext(seed: 0);
            var model = ml.Model.Load(Path.Combine(dir, "model.zip"), out _);
            var actual = ScoredRows.Read(model.Transform(ToView(ml, rows)));
            Assert.That(actual, Is.EqualTo(expected), $"scores of the {release} {kind} model.zip");
            Assert.That(expected.Distinct().Count(), Is.GreaterThan(1), "the fixture should not score every row alike");
        }

        /// <summary>Writes this release's fixtures into $MLNETMLP_FIXTURE_DIR/&lt;kind&gt;/ (then copy them into
        /// Compatibility/&lt;release&gt;/ and add the release to <see cref="Releases"/>).</summary>
        [Test, Explicit("writes compatibility fixtures for a release")]
        public void WriteFixtures()
        {
            var root = Environment.GetEnvironmentVariable("MLNETMLP_FIXTURE_DIR");
            Assume.That(root, Is.Not.Null.And.Not.Empty, "set MLNETMLP_FIXTURE_DIR");
            var ml = new MLContext(seed: 1);

            var blobs = TestData.Blobs(200, classes: 3, dims: 5, seed: 21, spread: 0.9);
            var multiclass = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features"))
                .Append(ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 12, 8 }, NumberOfEpochs = 4 }))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
            Write(ml, root, "multiclass", multiclass, blobs.Select(r => (r.Label, r.Features)).ToArray());

            var rings = TestData.BinaryRings(200, seed: 22);
            foreach (var (name, loss) in new[] { ("binary-logloss", MlpBinaryLoss.LogLoss), ("binary-hinge", MlpBinaryLoss.Hinge) })
            {
                var binary = ml.Transforms.Conversion.ConvertType("Label", outputKind: DataKind.Boolean)
                    .Append(ml.Transforms.NormalizeMinMax("Features"))
                    .Append(ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 5, LossFunction = loss }));
                Write(ml, root, name, binary, rings.Select(r => (r.Label ? "true" : "false", r.Features)).ToArray());
            }

            var wave = TestData.Wave(200, seed: 23);
            var regression = ml.Transforms.Conversion.ConvertType("Label", outputKind: DataKind.Single)
                .Append(ml.Transforms.NormalizeMinMax("Features"))
                .Append(ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 5 }));
            Write(ml, root, "regression", regression, wave.Select(r => (r.Label.ToString("R", System.Globalization.CultureInfo.InvariantCulture), r.Features)).ToArray());
        }

        private static void Write(MLContext ml, string root, string kind, IEstimator<ITransformer> pipeline, (string Label, float[] Features)[] rows)
        {
            var dir = Path.Combine(root, kind);
            Directory.CreateDirectory(dir);
            var view = ToView(ml, rows);
            var model = pipeline.Fit(view);
            ml.Model.Save(model, view.Schema, Path.Combine(dir, "model.zip"));
            File.WriteAllLines(Path.Combine(dir, "rows.tsv"), rows.Select(r => r.Label + "\t" + string.Join(",", r.Features.Select(ScoredRows.ToHex))));
            File.WriteAllLines(Path.Combine(dir, "scores.tsv"), ScoredRows.Read(model.Transform(view)));
        }

        /// <summary>Rows as the fixtures store them: a text label and the features (the pipelines convert the label).</summary>
        public sealed class TextRow
        {
            public string Label { get; set; }
            public float[] Features { get; set; }
        }

        private static (string Label, float[] Features)[] ReadRows(string path) => File.ReadAllLines(path).Select(line =>
        {
            var parts = line.Split('\t');
            return (parts[0], parts[1].Split(',').Select(ScoredRows.FromHex).ToArray());
        }).ToArray();

        private static IDataView ToView(MLContext ml, (string Label, float[] Features)[] rows)
        {
            var schema = SchemaDefinition.Create(typeof(TextRow));
            schema[nameof(TextRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
            return ml.Data.LoadFromEnumerable(rows.Select(r => new TextRow { Label = r.Label, Features = r.Features }), schema);
        }
    }
}
