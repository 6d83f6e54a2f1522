using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Data-parallel training through <see cref="IMlpCommunicator"/>, with ranks on threads
    /// (<see cref="MlpInProcessCommunicator"/>): the collectives themselves, ranks that agree bit for bit, runs that
    /// repeat bit for bit, N ranks against one process, shared early stopping, and the failures.</summary>
    public sealed class DataParallelTests
    {
        private static IDataView Keyed(MLContext ml, LabeledRow[] rows, int dims)
        {
            var data = TestData.ToDataView(ml, rows, dims);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        private static MlpMulticlassTrainer.Options Options(IMlpCommunicator comm, int members = 1, int epochs = 8) => new MlpMulticlassTrainer.Options
        {
            HiddenLayerSizes = new[] { 24, 16 }, NumberOfEpochs = epochs, EnsembleSize = members, BatchSize = 64, NumberOfThreads = 1,
            EarlyStoppingPatience = 0, Communicator = comm,
        };

        /// <summary>Each rank trains a model on the same data (as each MPI process would) and returns it.</summary>
        private static MlpModelParameters[] TrainOnRanks(int ranks, Func<IMlpCommunicator, MlpMulticlassTrainer.Options> options, LabeledRow[] rows)
        {
            var comms = MlpInProcessCommunicator.Create(ranks, TimeSpan.FromSeconds(30));
            var models = new MlpModelParameters[ranks];
            Parallel.For(0, ranks, new ParallelOptions { MaxDegreeOfParallelism = ranks }, r =>
            {
                var ml = new MLContext(seed: 1);
                models[r] = ml.MulticlassClassification.Trainers.Mlp(options(comms[r])).Fit(Keyed(ml, rows, 4)).Model;
            });
            return models;
        }

        private static MlpModelParameters TrainAlone(MlpMulticlassTrainer.Options options, LabeledRow[] rows)
        {
            var ml = new MLContext(seed: 1);
            return ml.MulticlassClassification.Trainers.Mlp(options).Fit(Keyed(ml, rows, 4)).Model;
        }

        [Test]
        public void InProcessCollectivesSumInRankOrderAndBroadcastAndGather()
        {
            var comms = MlpInProcessCommunicator.Create(3);
            var sums = new float[3][];
            var doubles = new double[3][];
            var broadcast = new float[3][];
            var gathered = new float[3][][];
            Parallel.For(0, 3, new ParallelOptions { MaxDegreeOfParallelism = 3 }, r =>
            {
                var c = comms[r];
                sums[r] = new[] { r + 1f, 10f * r, 1e8f * (r == 0 ? 1 : r == 1 ? 1 : -1) };
                c.AllReduceSum(sums[r]);
                doubles[r] = new[] { 0.5 * r };
                c.AllReduceSum(doubles[r]);
                broadcast[r] = new[] { r * 7f, r * 8f };
                c.Broadcast(broadcast[r], root: 2);
                gathered[r] = c.AllGather(Enumerable.Repeat((float)r, r + 1).ToArray());
                c.Barrier();
            });
            for (int r = 0; r < 3; r++)
            {
                Assert.That(sums[r], Is.EqualTo(new[] { 6f, 30f, 1e8f }), "rank order: (1e8 + 1e8) - 1e8");
                Assert.That(doubles[r], Is.EqualTo(new[] { 1.5 }));
                Assert.That(broadcast[r], Is.EqualTo(new[] { 14f, 16f }));
                Assert.That(gathered[r].Select(g => g.Length), Is.EqualTo(new[] { 1, 2, 3 }));
                Assert.That(gathered[r][2], Is.EqualTo(new[] { 2f, 2f, 2f }));
            }
        }

        [Test]
        public void RanksAgreeBitForBitRepeatAndTrainLikeOneProcess()
        {
            var rows = TestData.Blobs(900, classes: 3, dims: 4, seed: 5, spread: 1.0);
            var first = TrainOnRanks(2, c => Options(c), rows);
            var again = TrainOnRanks(2, c => Options(c), rows);
            var alone = TrainAlone(Options(null), rows);
            AssertRanksTrainLikeOneProcess(first, again, alone);
        }

        /// <summary>Two runs on 2 ranks against one process on the same global batches: the ranks agree and repeat bit for
        /// bit, and only the gradients' summation order separates them from one process (weights within 1e-3 of the
        /// largest, per-epoch training losses within 1e-4).</summary>
        internal static void AssertRanksTrainLikeOneProcess(MlpModelParameters[] first, MlpModelParameters[] again, MlpModelParameters alone)
        {
            float[] w0 = TestData.AllWeights(first[0]), single = TestData.AllWeights(alone);
            Assert.That(TestData.AllWeights(first[1]), Is.EqualTo(w0), "both ranks hold the same weights");
            Assert.That(TestData.AllWeights(again[0]), Is.EqualTo(w0), "a second run gives the same weights bit for bit");
            double worst = w0.Zip(single, (a, b) => Math.Abs(a - b)).Max(), scale = single.Max(v => Math.Abs(v));
            Assert.That(worst, Is.LessThan(1e-3 * scale), $"2 ranks against one process: largest weight difference {worst:G3}");
            Assert.That(w0, Is.Not.EqualTo(single), "the two-rank run did go through the communicator");
            var losses2 = first[0].TrainingHistory.Select(h => h.TrainingLoss).ToArray();
            var losses1 = alone.TrainingHistory.Select(h => h.TrainingLoss).ToArray();
            for (int e = 0; e < losses1.Length; e++)
                Assert.That(losses2[e], Is.EqualTo(losses1[e]).Within(1e-4 * losses1[e] + 1e-6), $"epoch {e + 1}'s training loss");
        }

        [Test]
        public void ThreeRanksWithAnEnsembleAndUnevenShares()
        {
            // 500 rows in batches of 64: the last batch has 52 rows, shared 17/17/18
            var rows = TestData.Blobs(500, classes: 3, dims: 4, seed: 8, spread: 1.0);
            var models = TrainOnRanks(3, c => Options(c, members: 2, epochs: 5), rows);
            var alone = TrainAlone(Options(null, members: 2, epochs: 5), rows);
            Assert.That(TestData.AllWeights(models[1]), Is.EqualTo(TestData.AllWeights(models[0])));
            Assert.That(TestData.AllWeights(models[2]), Is.EqualTo(TestData.AllWeights(models[0])));
            double worst = TestData.AllWeights(models[0]).Zip(TestData.AllWeights(alone), (a, b) => Math.Abs(a - b)).Max();
            Assert.That(worst, Is.LessThan(1e-3), $"3 ranks x 2 members against one process: {worst:G3}");
        }

        [Test]
        public void EarlyStoppingAndValidationAreSharedByTheRanks()
        {
            var rows = TestData.Blobs(700, classes: 3, dims: 4, seed: 9, spread: 2.5);
            MlpMulticlassTrainer.Options WithHoldOut(IMlpCommunicator c)
            {
                var o = Options(c, epochs: 60);
                o.ValidationFraction = 0.25f;
                o.EarlyStoppingPatience = 3;
                return o;
            }
            var models = TrainOnRanks(2, WithHoldOut, rows);
            var alone = TrainAlone(WithHoldOut(null), rows);
            var h0 = models[0].TrainingHistory;
            var h1 = models[1].TrainingHistory;
            Assert.That(h0.Count, Is.LessThan(60), "training stopped early");
            Assert.That(h1.Select(h => (h.ValidationLoss, h.ValidationMetric)), Is.EqualTo(h0.Select(h => (h.ValidationLoss, h.ValidationMetric))),
                "both ranks saw the same validation sums (each evaluated half the rows)");
            Assert.That(TestData.AllWeights(models[1]), Is.EqualTo(TestData.AllWeights(models[0])));
            for (int e = 0; e < Math.Min(h0.Count, alone.TrainingHistory.Count); e++)
                Assert.That(h0[e].ValidationLoss, Is.EqualTo(alone.TrainingHistory[e].ValidationLoss).Within(1e-3), $"epoch {e + 1}'s validation loss");
        }

        [Test]
        public void ARankThatNeverArrivesStopsTheOthersWithinTheTimeout()
        {
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(2));
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(300, classes: 3, dims: 4, seed: 2), 4);
            var clock = Stopwatch.StartNew();
            // rank 1 "died" before training: rank 0 must not wait for ever
            var e = Assert.Catch<Exception>(() => ml.MulticlassClassification.Trainers.Mlp(Options(comms[0])).Fit(data));
            Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(20));
            Assert.That(e.ToString(), Does.Contain("did not arrive within 2 s"));
        }

        [Test]
        public void AnAbortedRankStopsTheOthersAtOnce()
        {
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromMinutes(5));
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(3000, classes: 3, dims: 4, seed: 2), 4);
            var clock = Stopwatch.StartNew();
            var training = Task.Run(() => ml.MulticlassClassification.Trainers.Mlp(Options(comms[0], epochs: 1000)).Fit(data));
            comms[1].Abort("out of memory");
            var e = Assert.Catch<Exception>(() => training.GetAwaiter().GetResult());
            Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(60));
            Assert.That(e.ToString(), Does.Contain("rank 1 aborted: out of memory"));
        }

        [Test]
        public void ADivergedStepStopsEveryRankTogether()
        {
            var rows = TestData.Wave(500, 1);
            foreach (var r in rows) r.Features = r.Features.Select(f => f * 1e6f).ToArray(); // as OptionEffectTests' divergence
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(30));
            var errors = new Exception[2];
            var clock = Stopwatch.StartNew();
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r =>
            {
                var ml = new MLContext(seed: 1);
                var options = new MlpRegressionTrainer.Options
                {
                    HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 20, Optimizer = MlpOptimizer.Sgd, LearningRate = 10f,
                    LearningRateScaling = MlpLearningRateScaling.Uniform, NumberOfThreads = 1, Communicator = comms[r],
                };
                errors[r] = Assert.Throws<InvalidOperationException>(() => ml.Regression.Trainers.Mlp(options).Fit(TestData.ToDataView(ml, rows, 2)));
            });
            Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(25), "no rank waited for a timeout");
            foreach (var e in errors)
                Assert.That(e.Message, Does.Contain("non-finite on this or another rank").And.Contain("learning rate"));
        }

        [Test]
        public void UnsupportedDataAndBadCommunicatorsAreClearErrors()
        {
            var ml = new MLContext(seed: 1);
            var data = Keyed(ml, TestData.Blobs(200, classes: 3, dims: 4, seed: 3), 4);
            var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(5));
            var streamed = Options(comms[0]);
            streamed.DataMode = MlpDataMode.Streaming;
            var e = Assert.Catch<Exception>(() => ml.MulticlassClassification.Trainers.Mlp(streamed).Fit(data));
            Assert.That(e.Message, Does.Contain("DataSharding = ByRowId").And.Contain("DataMode = InMemory"));
            Assert.Throws<ArgumentOutOfRangeException>(() => MlpInProcessCommunicator.Create(0));
            var mpi = Assert.Throws<InvalidOperationException>(() => new MlpMpiCommunicator());
            Assert.That(mpi.Message, Does.Contain("not started by an MPI launcher").And.Contain("mpirun -np N"));
        }
    }
}
