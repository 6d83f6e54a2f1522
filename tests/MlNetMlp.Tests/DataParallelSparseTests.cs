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
                return new CheckpointTests.SparseRow
                {
                    Label = "c" + c,
                    Features = new VBuffer<float>(Width, columns.Length, columns.Select(_ => (float)(0.5 + random.NextDouble())).ToArray(), columns),
                };
            }).ToArray();
            var schema = SchemaDefinition.Create(typeof(CheckpointTests.SparseRow));
            schema[nameof(CheckpointTests.SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Width);
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

        private static float[] AllWeights(MlpModelParameters model) =>
            Enumerable.Range(0, model.EnsembleSize).SelectMany(m =>
                Enumerable.Range(0, model.LayerSizes.Count - 1).SelectMany(l => model.GetWeights(l, m).Concat(model.GetBiases(l, m)))).ToArray();

        [TearDown]
        public void RestoreTheThreshold() => DataParallel.DenseUnionRowsPerColumn = 2.0;

        [Test]
        public void SparseRanksAgreeRepeatAndTrainLikeOneProcess()
        {
            var (alone, log) = Fit(Options(null));
            Assert.That(log, Has.Some.Contains("CSR storage"), "the data are trained sparse");
            var first = OnRanks(2);
            var again = OnRanks(2);
            float[] w0 = AllWeights(first[0]), single = AllWeights(alone);
            Assert.That(AllWeights(first[1]), Is.EqualTo(w0), "both ranks hold the same weights");
            Assert.That(AllWeights(again[0]), Is.EqualTo(w0), "a second run gives the same weights bit for bit");
            double worst = w0.Zip(single, (a, b) => Math.Abs(a - b)).Max(), scale = single.Max(v => Math.Abs(v));
            Assert.That(worst, Is.LessThan(1e-3 * scale), $"2 sparse ranks against one process: largest weight difference {worst:G3}");
            Assert.That(w0, Is.Not.EqualTo(single), "the two-rank run did go through the communicator");
            var losses2 = first[0].TrainingHistory.Select(h => h.TrainingLoss).ToArray();
            var losses1 = alone.TrainingHistory.Select(h => h.TrainingLoss).ToArray();
            for (int e = 0; e < losses1.Length; e++)
                Assert.That(losses2[e], Is.EqualTo(losses1[e]).Within(1e-4 * losses1[e] + 1e-6), $"epoch {e + 1}'s training loss");
        }

        [Test]
        public void TheDenseUnionPathTrainsLikeTheGatheredUnion()
        {
            var gathered = OnRanks(3, members: 2);
            DataParallel.DenseUnionRowsPerColumn = 0; // every step takes the dense allreduce
            var dense = OnRanks(3, members: 2);
            Assert.That(AllWeights(dense[2]), Is.EqualTo(AllWeights(dense[0])), "ranks agree on the dense path");
            double worst = AllWeights(dense[0]).Zip(AllWeights(gathered[0]), (a, b) => Math.Abs(a - b)).Max();
            Assert.That(worst, Is.LessThan(1e-6), $"dense-union against gathered-union exchange: {worst:G3}");
        }

        [TestCase(MlpDataMode.InMemory)]
        [TestCase(MlpDataMode.Streaming)]
        public void ShardedSparseRanksAgreeAndTrainLikeOneProcess(MlpDataMode mode)
        {
            var (alone, _) = Fit(Options(null));
            var models = OnRanks(2, change: o => { o.DataSharding = MlpDataSharding.ByRowId; o.DataMode = mode; });
            Assert.That(AllWeights(models[1]), Is.EqualTo(AllWeights(models[0])), "both ranks hold the same weights");
            double last = models[0].TrainingHistory.Last().TrainingLoss, single = alone.TrainingHistory.Last().TrainingLoss;
            Assert.That(last, Is.EqualTo(single).Within(0.1 * single + 0.02), "the sharded ranks' final training loss");
        }
    }
}
