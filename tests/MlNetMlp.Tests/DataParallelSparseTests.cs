using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.Training;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Data-parallel training with a sparse (CSR) first layer: the ranks exchange row-sparse gradients (an
    /// allgather merged over the union of their columns, or a dense allreduce when the union is nearly dense), agree bit
    /// for bit, and train like one process.</summary>
    [NonParallelizable] // moves DataParallel.DenseUnionRowsPerColumn
    public sealed class DataParallelSparseTests
    {
        private const int Width = 300;

        private static IDataView Data(MLContext ml)
        {
            var random = new Random(11);
            var rows = Enumerable.Range(0, 600).Select(i =>
            {
                int c = i % 3;
                var idx = new SortedSet<int>();
                for (int k = 0; k < 4; k++) idx.Add(c * 100 + random.Next(25));
                for (int k = 0; k < 3; k++) idx.Add(random.Next(Width));
                var columns = idx.ToArray();
                return new SparseInputTests.SparseRow
                {
                    Label = "c" + c,
                    Features = new VBuffer<float>(Width, columns.Length, columns.Select(_ => (float)(0.5 + random.NextDouble())).ToArray(), columns),
                };
            }).ToArray();
            var schema = SchemaDefinition.Create(typeof(SparseInputTests.SparseRow));
            schema[nameof(SparseInputTests.SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Width);
            var data = ml.Data.LoadFromEnumerable(rows, schema);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        private static MlpMulticlassTrainer.Options Options(IMlpCommunicator comm, int members = 1) => new MlpMulticlassTrainer.Options
        {
            HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 6, EnsembleSize = members, BatchSize = 64, NumberOfThreads = 1,
            EarlyStoppingPatience = 0, WeightDecay = 1e-3f, Communicator = comm,
        };

        private static (MlpModelParameters Model, List<string> Log) Fit(MlpMulticlassTrainer.Options options)
        {
            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            return (ml.MulticlassClassification.Trainers.Mlp(options).Fit(Data(ml)).Model, log);
        }

        private static MlpModelParameters[] OnRanks(int ranks, int members = 1, Action<MlpMulticlassTrainer.Options> change = null)
        {
            var comms = MlpInProcessCommunicator.Create(ranks, TimeSpan.FromSeconds(30));
            var models = new MlpModelParameters[ranks];
            Parallel.For(0, ranks, new ParallelOptions { MaxDegreeOfParallelism = ranks }, r =>
            {
                var o = Options(comms[r], members);
                change?.Invoke(o);
                models[r] = Fit(o).Model;
            });
            return models;
        }

        [TearDown]
        public void RestoreTheThreshold() => DataParallel.DenseUnionRowsPerColumn = 2.0;

        [Test]
        public void SparseRanksAgreeRepeatAndTrainLikeOneProcess()
        {
            var (alone, log) = Fit(Options(null));
            Assert.That(log, Has.Some.Contains("CSR storage"), "the data are trained sparse");
            var first = OnRanks(2);
            var again = OnRanks(2);
            DataParallelTests.AssertRanksTrainLikeOneProcess(first, again, alone);
        }

        [Test]
        public void TheDenseUnionPathTrainsLikeTheGatheredUnion()
        {
            var gathered = OnRanks(3, members: 2);
            DataParallel.DenseUnionRowsPerColumn = 0; // every step takes the dense allreduce
            var dense = OnRanks(3, members: 2);
            Assert.That(TestData.AllWeights(dense[2]), Is.EqualTo(TestData.AllWeights(dense[0])), "ranks agree on the dense path");
            double worst = TestData.AllWeights(dense[0]).Zip(TestData.AllWeights(gathered[0]), (a, b) => Math.Abs(a - b)).Max();
            Assert.That(worst, Is.LessThan(1e-6), $"dense-union against gathered-union exchange: {worst:G3}");
        }

        [TestCase(MlpDataMode.InMemory)]
        [TestCase(MlpDataMode.Streaming)]
        public void ShardedSparseRanksAgreeAndTrainLikeOneProcess(MlpDataMode mode)
        {
            var (alone, _) = Fit(Options(null));
            var models = OnRanks(2, change: o => { o.DataSharding = MlpDataSharding.ByRowId; o.DataMode = mode; });
            Assert.That(TestData.AllWeights(models[1]), Is.EqualTo(TestData.AllWeights(models[0])), "both ranks hold the same weights");
            double last = models[0].TrainingHistory.Last().TrainingLoss, single = alone.TrainingHistory.Last().TrainingLoss;
            Assert.That(last, Is.EqualTo(single).Within(0.1 * single + 0.02), "the sharded ranks' final training loss");
        }
    }
}
