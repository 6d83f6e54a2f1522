using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.ML;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Sharded data-parallel training (<see cref="MlpTrainerOptionsBase.DataSharding"/>): every rank reads only
    /// its shard (in memory or streamed), the ranks agree bit for bit, and they train to the accuracy of one process.</summary>
    public sealed class DataShardingTests
    {
        private static readonly LabeledRow[] All = TestData.Blobs(1800, classes: 3, dims: 4, seed: 5, spread: 1.6);
        private static readonly LabeledRow[] Rows = All.Take(1200).ToArray();
        private static readonly LabeledRow[] Test = All.Skip(1200).ToArray();

        private static MlpMulticlassTrainer.Options Options(IMlpCommunicator comm, MlpDataSharding sharding, MlpDataMode mode = MlpDataMode.InMemory) =>
            new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 24 }, NumberOfEpochs = 8, EnsembleSize = 1, BatchSize = 64, NumberOfThreads = 1,
                EarlyStoppingPatience = 0, Communicator = comm, DataSharding = sharding, DataMode = mode, Seed = 3,
            };

        private sealed class Run
        {
            public MlpModelParameters Model;
            public double Accuracy;
            public List<string> Log = new List<string>();
        }

        private static Run Fit(MlpMulticlassTrainer.Options options, IEnumerable<LabeledRow> rows)
        {
            var run = new Run();
            var ml = new MLContext(seed: 1);
            ml.Log += (_, e) => { lock (run.Log) run.Log.Add(e.Message); };
            var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, Rows, 4));
            var model = ml.MulticlassClassification.Trainers.Mlp(options).Fit(keys.Transform(TestData.ToDataView(ml, rows, 4)));
            run.Model = model.Model;
            run.Accuracy = ml.MulticlassClassification.Evaluate(model.Transform(keys.Transform(TestData.ToDataView(ml, Test, 4)))).MicroAccuracy;
            return run;
        }

        private static Run[] OnRanks(int ranks, Func<IMlpCommunicator, MlpMulticlassTrainer.Options> options, Func<int, IEnumerable<LabeledRow>> rows = null)
        {
            var comms = MlpInProcessCommunicator.Create(ranks, TimeSpan.FromSeconds(30));
            var runs = new Run[ranks];
            Parallel.For(0, ranks, new ParallelOptions { MaxDegreeOfParallelism = ranks }, r => runs[r] = Fit(options(comms[r]), rows?.Invoke(r) ?? Rows));
            return runs;
        }

        /// <summary>The (held, total) training rows a rank logged.</summary>
        private static (int Held, int Total) Held(Run run)
        {
            var m = run.Log.Select(l => Regex.Match(l, @"holds (\d+) of the (\d+) training rows")).First(x => x.Success);
            return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
        }

        private static void AssertShardedRun(Run[] runs, Run alone)
        {
            var w0 = TestData.AllWeights(runs[0].Model);
            for (int r = 1; r < runs.Length; r++)
                Assert.That(TestData.AllWeights(runs[r].Model), Is.EqualTo(w0), $"rank {r} holds rank 0's weights");
            var held = runs.Select(Held).ToArray();
            Assert.That(held.Sum(h => h.Held), Is.EqualTo(Rows.Length), "the shards cover every row once");
            Assert.That(held.Select(h => h.Total), Is.All.EqualTo(Rows.Length));
            Assert.That(held.Max(h => h.Held), Is.LessThan(Rows.Length * 0.7), "no rank holds all rows");
            TestContext.Progress.WriteLine($"sharded {runs.Length} ranks: test accuracy {runs[0].Accuracy:F4}, one process {alone.Accuracy:F4}");
            Assert.That(alone.Accuracy, Is.GreaterThan(0.7), "a task the network learns (chance: 0.33)");
            Assert.That(runs[0].Accuracy, Is.EqualTo(alone.Accuracy).Within(0.02), "sharded ranks train like one process");
            Assert.That(runs[0].Model.TrainingHistory.Last().TrainingLoss, Is.EqualTo(alone.Model.TrainingHistory.Last().TrainingLoss).Within(0.05));
        }

        [Test]
        public void RanksReadTheirShardByRowIdInMemory()
        {
            var alone = Fit(Options(null, MlpDataSharding.Replicated), Rows);
            var runs = OnRanks(2, c => Options(c, MlpDataSharding.ByRowId));
            AssertShardedRun(runs, alone);
            var again = OnRanks(2, c => Options(c, MlpDataSharding.ByRowId));
            Assert.That(TestData.AllWeights(again[0].Model), Is.EqualTo(TestData.AllWeights(runs[0].Model)), "a second run gives the same weights bit for bit");
        }

        [Test]
        public void RanksStreamTheirShardByRowIdWithUnevenShares()
        {
            var alone = Fit(Options(null, MlpDataSharding.Replicated), Rows);
            var runs = OnRanks(3, c => Options(c, MlpDataSharding.ByRowId, MlpDataMode.Streaming));
            Assert.That(runs[0].Log, Has.Some.Contains("Streaming"));
            AssertShardedRun(runs, alone);
        }

        [Test]
        public void PrePartitionedRanksTrainOnTheirOwnViews()
        {
            var alone = Fit(Options(null, MlpDataSharding.Replicated), Rows);
            // rank 0 gets every third row, rank 1 the rest: shards of different sizes
            var runs = OnRanks(2, c => Options(c, MlpDataSharding.PrePartitioned), r => Rows.Where((_, i) => (i % 3 == 0) == (r == 0)));
            Assert.That(Held(runs[0]).Held, Is.EqualTo(400));
            AssertShardedRun(runs, alone);
        }

        [Test]
        public void ShardedValidationStopsEveryRankAtTheSameEpoch()
        {
            MlpMulticlassTrainer.Options WithHoldOut(IMlpCommunicator c)
            {
                var o = Options(c, MlpDataSharding.ByRowId);
                o.NumberOfEpochs = 60;
                o.ValidationFraction = 0.25f;
                o.EarlyStoppingPatience = 3;
                return o;
            }
            var runs = OnRanks(2, WithHoldOut);
            var h0 = runs[0].Model.TrainingHistory;
            Assert.That(h0.Count, Is.LessThan(60), "training stopped early");
            Assert.That(runs[1].Model.TrainingHistory.Select(h => h.ValidationLoss), Is.EqualTo(h0.Select(h => h.ValidationLoss)));
            Assert.That(TestData.AllWeights(runs[1].Model), Is.EqualTo(TestData.AllWeights(runs[0].Model)));
        }

        [Test]
        public void ShardedRegressionCombinesTheTargetStatistics()
        {
            var rows = TestData.Wave(800, seed: 4);
            RegressionRow[] Part(int r) => rows.Where((_, i) => (i % 2) == r).ToArray();
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(30));
            var models = new MlpRegressionModelParameters[2];
            var r2 = new double[2];
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r =>
            {
                var ml = new MLContext(seed: 1);
                var options = new MlpRegressionTrainer.Options
                {
                    HiddenLayerSizes = new[] { 32 }, NumberOfEpochs = 30, BatchSize = 32, NumberOfThreads = 1, EnsembleSize = 1,
                    EarlyStoppingPatience = 0, Communicator = comms[r], DataSharding = MlpDataSharding.PrePartitioned,
                };
                var model = ml.Regression.Trainers.Mlp(options).Fit(TestData.ToDataView(ml, Part(r), 2));
                models[r] = model.Model;
                r2[r] = ml.Regression.Evaluate(model.Transform(TestData.ToDataView(ml, rows, 2))).RSquared;
            });
            Assert.That(models[1].GetWeights(0), Is.EqualTo(models[0].GetWeights(0)));
            Assert.That(models[1].GetBiases(models[1].LayerSizes.Count - 2), Is.EqualTo(models[0].GetBiases(models[0].LayerSizes.Count - 2)),
                "the output layer (with the target scaling folded in) agrees");
            Assert.That(r2[0], Is.GreaterThan(0.8));
        }

        [Test]
        public void PrePartitionedShardsOfDifferentSchemasAreAClearError()
        {
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(30));
            var errors = new Exception[2];
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r =>
            {
                var ml = new MLContext(seed: 1);
                int width = r == 0 ? 4 : 3; // rank 1's files lost a column
                var rows = Rows.Select(x => new LabeledRow { Label = x.Label, Features = x.Features.Take(width).ToArray() });
                var data = TestData.ToDataView(ml, rows, width);
                data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
                errors[r] = Assert.Catch<Exception>(() =>
                    ml.MulticlassClassification.Trainers.Mlp(Options(comms[r], MlpDataSharding.PrePartitioned)).Fit(data));
            });
            foreach (var e in errors)
                Assert.That(e.Message, Does.Contain("differ in the number of feature columns").And.Contain("4, 3"));
        }

        [Test]
        public void StreamedReplicatedDataIsAClearError()
        {
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(5));
            var e = Assert.Catch<Exception>(() => Fit(Options(comms[0], MlpDataSharding.Replicated, MlpDataMode.Streaming), Rows));
            Assert.That(e.Message, Does.Contain("DataSharding = ByRowId"));
        }
    }
}
