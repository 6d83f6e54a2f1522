using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.TestShared;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>The checks ML.NET applies to its own estimators, for each MlNetMlp trainer: the promised output schema is
    /// the delivered one, invalid input is rejected at GetOutputSchema, Fit and Transform, and save/load keeps the
    /// schema and the values.</summary>
    public sealed class EstimatorConformanceTests
    {
        public enum Kind { Multiclass, Binary, Regression }

        private static (IEstimator<ITransformer> Trainer, IDataView Data) Setup(MLContext ml, Kind kind)
        {
            switch (kind)
            {
                case Kind.Multiclass:
                    var rows = TestData.ToDataView(ml, TestData.Blobs(200, 3, 4, 1), 4);
                    var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(rows).Transform(rows);
                    return (ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 8 }, NumberOfEpochs = 2 }), keyed);
                case Kind.Binary:
                    return (ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { HiddenLayerSizes = new[] { 8 }, NumberOfEpochs = 2 }),
                        TestData.ToDataView(ml, TestData.BinaryRings(200, 1), 2));
                default:
                    return (ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 8 }, NumberOfEpochs = 2 }),
                        TestData.ToDataView(ml, TestData.Wave(200, 1), 2));
            }
        }

        [Test]
        public void PromisedSchemaIsDelivered([Values] Kind kind)
        {
            var ml = new MLContext(seed: 1);
            var (trainer, data) = Setup(ml, kind);
            var promised = trainer.GetOutputSchema(TestData.Shape(data.Schema));
            var delivered = trainer.Fit(data).GetOutputSchema(data.Schema);
            foreach (var column in promised)
            {
                var actual = delivered.GetColumnOrNull(column.Name);
                Assert.That(actual.HasValue, Is.True, $"column {column.Name} promised but not delivered");
                var shape = TestData.Shape(delivered).First(c => c.Name == column.Name);
                Assert.That((shape.Kind, shape.ItemType, shape.IsKey), Is.EqualTo((column.Kind, column.ItemType, column.IsKey)),
                    $"{column.Name}: promised {column.ItemType} {column.Kind}, got {actual.Value.Type}");
                foreach (var annotation in column.Annotations)
                    Assert.That(actual.Value.Annotations.Schema.GetColumnOrNull(annotation.Name).HasValue, Is.True, $"{column.Name} lacks annotation {annotation.Name}");
            }
            Assert.That(delivered.Count(c => !c.IsHidden), Is.EqualTo(promised.Count()), "no unpromised columns");
        }

        [Test]
        public void InvalidInputIsRejectedAtEveryStage([Values] Kind kind)
        {
            var ml = new MLContext(seed: 1);
            var (trainer, data) = Setup(ml, kind);
            var noFeatures = ml.Transforms.DropColumns("Features").Fit(data).Transform(data);
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(TestData.Shape(noFeatures.Schema)));
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(noFeatures));
            var model = trainer.Fit(data);
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(noFeatures));
            // A feature vector of another size is ML.NET's "incompatible features column" error at Transform (as for
            // the built-in trainers), never a native read past the end.
            int width = ((VectorDataViewType)data.Schema["Features"].Type).Size;
            var wider = ml.Transforms.Concatenate("Features", "Features", "Features").Fit(data).Transform(data);
            Assert.That(((VectorDataViewType)wider.Schema["Features"].Type).Size, Is.EqualTo(2 * width));
            var e = Assert.Catch<InvalidOperationException>(() => model.Transform(wider));
            Assert.That(e.Message, Does.Contain("Incompatible features column type"));
        }

        [Test]
        public void SaveAndLoadKeepSchemaAndValues([Values] Kind kind)
        {
            var ml = new MLContext(seed: 1);
            var (trainer, data) = Setup(ml, kind);
            var model = trainer.Fit(data);
            using var stream = new MemoryStream();
            ml.Model.Save(model, data.Schema, stream);
            stream.Position = 0;
            var loaded = ml.Model.Load(stream, out var inputSchema);
            Assert.That(inputSchema.Select(c => c.Name), Is.EqualTo(data.Schema.Select(c => c.Name)));
            var before = model.Transform(data);
            var after = loaded.Transform(data);
            Assert.That(after.Schema.Select(c => (c.Name, c.Type.ToString())), Is.EqualTo(before.Schema.Select(c => (c.Name, c.Type.ToString()))));
            Assert.That(ScoredRows.Read(after), Is.EqualTo(ScoredRows.Read(before)));
        }
    }
}
