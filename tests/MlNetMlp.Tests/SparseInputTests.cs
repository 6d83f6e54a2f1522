using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.Training;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Sparse features: stored as CSR when the data is sparse, trained to the same weights as dense storage
    /// where the update rules agree, and scored from their nonzeros like the densified rows.</summary>
    [NonParallelizable] // one test moves the storage threshold
    public sealed class SparseInputTests
    {
        /// <summary>A row with a sparse feature vector.</summary>
        public sealed class SparseRow
        {
            public string Label { get; set; }
            public VBuffer<float> Features { get; set; }
        }

        private const int Width = 300;

        /// <summary>Three classes, each with its own few "words" among 300 columns (about 2% non-zero per row).</summary>
        private static SparseRow[] Rows(int count, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(i =>
            {
                int c = i % 3;
                var columns = new SortedSet<int>();
                for (int k = 0; k < 4; k++) columns.Add(c * 100 + random.Next(20));   // class words
                for (int k = 0; k < 3; k++) columns.Add(random.Next(Width));           // noise words
                var idx = columns.ToArray();
                var values = idx.Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
                return new SparseRow { Label = "c" + c, Features = new VBuffer<float>(Width, idx.Length, values, idx) };
            }).ToArray();
        }

        private static IDataView View(MLContext ml, IEnumerable<SparseRow> rows)
        {
            var schema = SchemaDefinition.Create(typeof(SparseRow));
            schema[nameof(SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Width);
            return ml.Data.LoadFromEnumerable(rows, schema);
        }

        private static (MLContext Ml, IDataView Data, List<string> Log) Setup(int count = 600)
        {
            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            var data = View(ml, Rows(count, 3));
            return (ml, ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data), log);
        }

        [Test]
        public void SparseDataIsStoredAsCsrAndLearned()
        {
            var (ml, data, log) = Setup();
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = 20 }).Fit(data);
            Assert.That(log, Has.Some.Contains("CSR storage"));
            var accuracy = ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy;
            Assert.That(accuracy, Is.GreaterThan(0.95));
            var p = model.Model.InputPreprocessing;
            Assert.That(p.Centers, Is.All.EqualTo(0f), "sparse columns are scaled, never centred");
            Assert.That(p.MissingIndicatorColumns, Is.Empty);
            Assert.That(p.SmoothClip, Is.False);
        }

        [Test]
        public void DenseDataIsNotStoredSparse()
        {
            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, TestData.Blobs(100, 3, 5, 1), 5))
                .Transform(TestData.ToDataView(ml, TestData.Blobs(100, 3, 5, 1), 5));
            ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = 2 }).Fit(data);
            Assert.That(log, Has.None.Contains("CSR storage"));
        }

        [Test]
        public void SparseAndDenseStorageTrainToTheSameWeights()
        {
            // plain SGD without weight decay: an untouched row's gradient is zero, so the lazy update is the dense one
            float[] Train(double threshold)
            {
                var saved = TrainingSet.SparseDensityThreshold;
                TrainingSet.SparseDensityThreshold = threshold;
                try
                {
                    var (ml, data, log) = Setup(300);
                    var options = new MlpMulticlassTrainer.Options
                    {
                        HiddenLayerSizes = new[] { 16 }, EnsembleSize = 1, NumberOfEpochs = 5, Optimizer = MlpOptimizer.Sgd, Momentum = 0,
                        LearningRate = 0.05f, InputScale = false, NormalizeFeatures = false, BatchSize = 32,
                    };
                    var m = ml.MulticlassClassification.Trainers.Mlp(options).Fit(data).Model;
                    Assert.That(log.Any(l => l.Contains("CSR storage")), Is.EqualTo(threshold > 0), "the storage asked for");
                    return m.GetWeights(0).Concat(m.GetWeights(1)).Concat(m.GetBiases(0)).ToArray();
                }
                finally
                {
                    TrainingSet.SparseDensityThreshold = saved;
                }
            }
            var sparse = Train(1.0);
            var dense = Train(-1.0);
            Assert.That(sparse.Length, Is.EqualTo(dense.Length));
            double worst = sparse.Zip(dense, (a, b) => Math.Abs(a - b)).Max();
            // measured: bit-identical here (the dense GEMM adds the zeros' products exactly, in the same order)
            Assert.That(worst, Is.LessThan(1e-4), "CSR vs dense storage, largest weight difference");
        }

        [Test]
        public void SparseRowsScoreLikeTheirDensifiedCopies()
        {
            var (ml, data, _) = Setup();
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = 10 }).Fit(data);
            var rows = Rows(50, 9);
            var denseRows = rows.Select(r => new LabeledRow { Label = r.Label, Features = r.Features.DenseValues().ToArray() }).ToArray();
            var sparseScores = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(View(ml, rows)), false).ToArray();
            var denseScores = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(TestData.ToDataView(ml, denseRows, Width)), false).ToArray();
            for (int i = 0; i < rows.Length; i++)
                Assert.That(sparseScores[i].Score, Is.EqualTo(denseScores[i].Score).Within(1e-5), $"row {i}");
            // a NaN among the nonzeros is the implicit 0 and is counted
            var p = model.Model;
            long before = p.ImputedValuesAtScoring;
            var row = rows[0];
            var values = row.Features.GetValues().ToArray();
            values[1] = float.NaN;
            var withNaN = new SparseRow { Label = row.Label, Features = new VBuffer<float>(Width, values.Length, values, row.Features.GetIndices().ToArray()) };
            var engine = ml.Model.CreatePredictionEngine<SparseRow, ScoreOnly>(model, inputSchemaDefinition: SchemaFor());
            var scored = engine.Predict(withNaN).Score;
            Assert.That(scored, Is.All.Matches<float>(float.IsFinite));
            Assert.That(p.ImputedValuesAtScoring, Is.EqualTo(before + 1));
        }

        [Test]
        public void ASparseModelRoundTripsAndExportsToOnnx()
        {
            var (ml, data, _) = Setup();
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = 5, EnsembleSize = 2 }).Fit(data);
            using var stream = new System.IO.MemoryStream();
            ml.Model.Save(model, data.Schema, stream);
            stream.Position = 0;
            var loaded = ml.Model.Load(stream, out _);
            var rows = Rows(40, 11);
            var before = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(View(ml, rows)), false).Select(r => r.Score).ToArray();
            var after = ml.Data.CreateEnumerable<ScoreOnly>(loaded.Transform(View(ml, rows)), false).Select(r => r.Score).ToArray();
            Assert.That(after, Is.EqualTo(before), "reloaded: the same scores bit for bit");

            using var onnx = new System.IO.MemoryStream();
            ml.Model.ConvertToOnnx(model, data, onnx);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx.ToArray());
            var dense = rows.SelectMany(r => r.Features.DenseValues()).ToArray();
            var inputs = new List<Microsoft.ML.OnnxRuntime.NamedOnnxValue>
            {
                Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Features", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(dense, new[] { rows.Length, Width })),
            };
            foreach (var name in session.InputMetadata.Keys.Where(k => k != "Features"))
                inputs.Add(Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(name,
                    new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(rows.Select(r => r.Label).ToArray(), new[] { rows.Length, 1 })));
            using var results = session.Run(inputs);
            var score = results.First(r => r.Name.StartsWith("Score")).AsTensor<float>().ToArray();
            for (int i = 0; i < rows.Length; i++)
                for (int c = 0; c < 3; c++)
                    Assert.That(score[i * 3 + c], Is.EqualTo(before[i][c]).Within(1e-5), $"row {i} class {c}");
        }

        private static SchemaDefinition SchemaFor()
        {
            var schema = SchemaDefinition.Create(typeof(SparseRow));
            schema[nameof(SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Width);
            return schema;
        }

        [Test]
        public void WideSparseInputsGetTheWideSparseDefaults()
        {
            var ml = new MLContext(seed: 1);
            var random = new Random(2);
            const int wide = 12_000;
            var rows = Enumerable.Range(0, 200).Select(i =>
            {
                var idx = new SortedSet<int> { (i % 2) * 6000 + random.Next(50), random.Next(wide), random.Next(wide) }.ToArray();
                return new SparseRow { Label = "c" + (i % 2), Features = new VBuffer<float>(wide, idx.Length, idx.Select(_ => 1f).ToArray(), idx) };
            }).ToArray();
            var schema = SchemaDefinition.Create(typeof(SparseRow));
            schema[nameof(SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, wide);
            var data = ml.Data.LoadFromEnumerable(rows, schema);
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = 3 }).Fit(keyed).Model;
            Assert.That(model.LayerSizes, Is.EqualTo(new[] { wide, 64, 2 }));
            Assert.That(model.EnsembleSize, Is.EqualTo(1));
        }
    }
}
