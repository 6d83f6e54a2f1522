using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.Training;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>DataMode Streaming (and Auto's decision): the rows are read from the view on every epoch, and training
    /// reaches what in-memory training reaches on the same data.</summary>
    [NonParallelizable] // one test moves the in-memory budget
    public sealed class StreamingTests
    {
        private static MlpMulticlassTrainer.Options Options(MlpDataMode mode) => new MlpMulticlassTrainer.Options
        {
            HiddenLayerSizes = new[] { 32 }, EnsembleSize = 1, NumberOfEpochs = 12, DataMode = mode,
        };

        private static (MLContext Ml, IDataView Train, IDataView Test, List<string> Log) Setup(bool cached)
        {
            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            var rows = TestData.Blobs(3000, classes: 4, dims: 8, seed: 5, spread: 1.1);
            var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 8));
            IDataView Keyed(IEnumerable<LabeledRow> r) => keys.Transform(TestData.ToDataView(ml, r, 8));
            var train = Keyed(rows.Take(2000));
            if (cached) train = ml.Data.Cache(train);
            return (ml, train, Keyed(rows.Skip(2000)), log);
        }

        private static double Accuracy(MLContext ml, ITransformer model, IDataView test) =>
            ml.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;

        [TestCase(false)]
        [TestCase(true)]
        public void StreamingReachesTheAccuracyOfInMemoryTraining(bool cached)
        {
            var (ml, train, test, log) = Setup(cached);
            var inMemory = Accuracy(ml, ml.MulticlassClassification.Trainers.Mlp(Options(MlpDataMode.InMemory)).Fit(train), test);
            var streamed = Accuracy(ml, ml.MulticlassClassification.Trainers.Mlp(Options(MlpDataMode.Streaming)).Fit(train), test);
            Assert.That(log, Has.Some.Contains("Streaming 2000 training rows"));
            Assert.That(log, Has.Some.Contains(cached ? "the view shuffles itself" : "shuffled through a pool of 10000 rows"));
            Assert.That(inMemory, Is.GreaterThan(0.8));
            Assert.That(streamed, Is.EqualTo(inMemory).Within(0.02), "streamed vs in memory");
        }

        [Test]
        public void StreamingIsDeterministicForASeed()
        {
            float[] Train(int threads)
            {
                var (ml, train, _, _) = Setup(cached: false);
                var options = Options(MlpDataMode.Streaming);
                options.NumberOfThreads = threads;
                options.EnsembleSize = 2;
                var m = ml.MulticlassClassification.Trainers.Mlp(options).Fit(train).Model;
                return m.GetWeights(0, 0).Concat(m.GetWeights(1, 1)).ToArray();
            }
            var one = Train(1);
            Assert.That(Train(1), Is.EqualTo(one));
            Assert.That(Train(2), Is.EqualTo(one), "2 threads");
        }

        [Test]
        public void AutoStreamsWhenTheInMemoryCopyExceedsTheBudget()
        {
            var saved = TrainingSet.InMemoryBudgetOverride;
            TrainingSet.InMemoryBudgetOverride = 10_000; // bytes: 2,000 rows of 8 floats are 64,000
            try
            {
                var (ml, train, test, log) = Setup(cached: false);
                var model = ml.MulticlassClassification.Trainers.Mlp(Options(MlpDataMode.Auto)).Fit(train);
                Assert.That(log, Has.Some.Contains("streaming the rows instead"));
                Assert.That(log, Has.Some.Contains("Streaming 2000 training rows"));
                Assert.That(Accuracy(ml, model, test), Is.GreaterThan(0.8));
            }
            finally
            {
                TrainingSet.InMemoryBudgetOverride = saved;
            }
            var (ml2, train2, _, log2) = Setup(cached: false);
            ml2.MulticlassClassification.Trainers.Mlp(Options(MlpDataMode.Auto)).Fit(train2);
            Assert.That(log2, Has.Some.Contains("DataMode Auto: 2000 training rows in memory"));
        }

        [Test]
        public void StreamedValidationAndHoldOutAreReportedAndUsed()
        {
            var (ml, train, test, log) = Setup(cached: true);
            var options = Options(MlpDataMode.Streaming);
            options.ValidationFraction = 0.25f;
            var held = ml.MulticlassClassification.Trainers.Mlp(options).Fit(train).Model;
            Assert.That(held.TrainingHistory.Last().ValidationMetric, Is.GreaterThan(0.8), "hold-out accuracy");
            var streamedRows = log.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"Streaming (\d+) training rows"))
                .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).First();
            Assert.That(streamedRows, Is.InRange(1350, 1650), "about 75% of the 2,000 rows train");
            var withSet = ml.MulticlassClassification.Trainers.Mlp(Options(MlpDataMode.Streaming)).Fit(train, test).Model;
            Assert.That(withSet.TrainingHistory.Select(h => h.ValidationMetric), Has.All.Not.NaN);
        }

        [Test]
        public void SparseBinaryAndRegressionDataStreamToo()
        {
            var ml = new MLContext(seed: 1);
            var rings = TestData.BinaryRings(800, seed: 2);
            var binary = ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options
            {
                HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 30, DataMode = MlpDataMode.Streaming, LossFunction = MlpBinaryLoss.Hinge,
            }).Fit(TestData.ToDataView(ml, rings, 2));
            Assert.That(ml.BinaryClassification.Evaluate(binary.Transform(TestData.ToDataView(ml, rings, 2))).Accuracy, Is.GreaterThan(0.9));

            var wave = TestData.Wave(800, seed: 3);
            var regression = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options
            {
                HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 40, DataMode = MlpDataMode.Streaming,
            }).Fit(TestData.ToDataView(ml, wave, 2));
            Assert.That(ml.Regression.Evaluate(regression.Transform(TestData.ToDataView(ml, wave, 2))).RSquared, Is.GreaterThan(0.8));

            // sparse rows stream as CSR minibatches
            var sparseRows = Enumerable.Range(0, 600).Select(i =>
            {
                var idx = new[] { (i % 3) * 100 + i % 17, 300 + i % 50 }.OrderBy(x => x).ToArray();
                return new SparseInputTests.SparseRow { Label = "c" + i % 3, Features = new VBuffer<float>(400, 2, new[] { 1f, 1f }, idx) };
            }).ToArray();
            var schema = SchemaDefinition.Create(typeof(SparseInputTests.SparseRow));
            schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 400);
            var data = ml.Data.LoadFromEnumerable(sparseRows, schema);
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            var sparse = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = 10, DataMode = MlpDataMode.Streaming }).Fit(keyed);
            Assert.That(log, Has.Some.Contains("(CSR minibatches)"));
            Assert.That(ml.MulticlassClassification.Evaluate(sparse.Transform(keyed)).MicroAccuracy, Is.GreaterThan(0.95));
        }

        [Test]
        public void ANegativeShufflePoolIsAClearError()
        {
            var ml = new MLContext(seed: 1);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { ShufflePoolRows = -1 }));
            Assert.That(e.ParamName, Is.EqualTo("ShufflePoolRows"));
        }
    }
}
