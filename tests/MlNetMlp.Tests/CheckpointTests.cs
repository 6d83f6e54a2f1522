using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Checkpoints (<see cref="MlpTrainerOptionsBase.CheckpointPath"/>): a run interrupted after a checkpoint
    /// and resumed gives the model and history of an uninterrupted run, bit for bit (dense, sparse, streamed, an
    /// ensemble, data-parallel ranks); checkpoints of another run or damaged files are refused with a clear message.</summary>
    public sealed class CheckpointTests
    {
        private sealed class Interrupted : Exception
        {
        }

        private string _dir;

        [SetUp]
        public void CreateDirectory() => _dir = Directory.CreateTempSubdirectory("mlp-ckpt-").FullName;

        [TearDown]
        public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

        private static MlpMulticlassTrainer.Options Base() => new MlpMulticlassTrainer.Options
        {
            HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 7, EnsembleSize = 1, BatchSize = 32, NumberOfThreads = 1,
            DropoutRate = 0.1f, ValidationFraction = 0.2f, EarlyStoppingPatience = 50, Seed = 4,
        };

        private static IDataView Dense(MLContext ml)
        {
            var data = TestData.ToDataView(ml, TestData.Blobs(400, classes: 3, dims: 5, seed: 2, spread: 1.2), 5);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        private static IDataView Sparse(MLContext ml)
        {
            const int width = 200;
            var random = new Random(8);
            var rows = Enumerable.Range(0, 300).Select(i =>
            {
                var idx = new SortedSet<int> { (i % 3) * 60 + random.Next(10), random.Next(width), random.Next(width) }.ToArray();
                return new SparseInputTests.SparseRow { Label = "c" + i % 3, Features = new VBuffer<float>(width, idx.Length, idx.Select(_ => 1f).ToArray(), idx) };
            }).ToArray();
            var schema = SchemaDefinition.Create(typeof(SparseInputTests.SparseRow));
            schema[nameof(SparseInputTests.SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
            var data = ml.Data.LoadFromEnumerable(rows, schema);
            return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        private static MlpModelParameters Fit(MlpMulticlassTrainer.Options options, Func<MLContext, IDataView> data, List<string> log = null)
        {
            var ml = new MLContext(seed: 1);
            if (log != null)
                ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            return ml.MulticlassClassification.Trainers.Mlp(options).Fit(data(ml)).Model;
        }

        private static double[] Losses(MlpModelParameters model) =>
            model.TrainingHistory.SelectMany(r => new[] { r.TrainingLoss, r.ValidationLoss, r.ValidationMetric, r.LearningRate }).ToArray();

        /// <summary>Stops the run with an exception at the end of epoch <paramref name="epoch"/> (before its checkpoint).</summary>
        private static MlpMulticlassTrainer.Options InterruptedAt(MlpMulticlassTrainer.Options o, int epoch)
        {
            o.EpochCallback = r =>
            {
                if (r.Epoch == epoch)
                    throw new Interrupted();
            };
            return o;
        }

        /// <summary>An uninterrupted run against one stopped at <paramref name="stopAt"/> and resumed.</summary>
        private void AssertResumesExactly(Func<MlpMulticlassTrainer.Options> options, Func<MLContext, IDataView> data, int stopAt)
        {
            var whole = options();
            whole.CheckpointPath = Path.Combine(_dir, "whole.ckpt");
            var expected = Fit(whole, data);

            string path = Path.Combine(_dir, "run.ckpt");
            var first = InterruptedAt(options(), stopAt);
            first.CheckpointPath = path;
            Assert.Throws<Interrupted>(() => Fit(first, data));
            Assert.That(File.Exists(path), "the interrupted run left a checkpoint");

            var second = options();
            second.CheckpointPath = path;
            second.ResumeFromCheckpoint = true;
            var resumedEpochs = new List<int>();
            second.EpochCallback = r => resumedEpochs.Add(r.Epoch);
            var log = new List<string>();
            var resumed = Fit(second, data, log);

            Assert.That(log, Has.Some.Contains("Resuming from the checkpoint"));
            Assert.That(resumedEpochs.First(), Is.GreaterThan(1), "the resumed run does not repeat the epochs done");
            Assert.That(TestData.AllWeights(resumed), Is.EqualTo(TestData.AllWeights(expected)), "weights of the resumed run");
            Assert.That(Losses(resumed), Is.EqualTo(Losses(expected)), "history of the resumed run");
            Assert.That(resumed.TrainingHistory.Select(r => r.Epoch), Is.EqualTo(expected.TrainingHistory.Select(r => r.Epoch)));
        }

        [Test]
        public void DenseRunResumesBitForBit() => AssertResumesExactly(Base, Dense, stopAt: 4);

        [Test]
        public void IntervalCheckpointsResumeFromTheLastOneWritten()
        {
            // checkpoints after epochs 2 and 4; stopped in epoch 6, the run resumes after epoch 4
            AssertResumesExactly(() => { var o = Base(); o.CheckpointInterval = 2; return o; }, Dense, stopAt: 6);
        }

        [Test]
        public void SgdEnsembleWithAPlateauScheduleResumesBitForBit() => AssertResumesExactly(() =>
        {
            var o = Base();
            o.EnsembleSize = 2;
            o.Optimizer = MlpOptimizer.Sgd;
            o.LearningRate = 0.05f;
            o.LearningRateSchedule = MlpLearningRateSchedule.ReduceOnPlateau;
            return o;
        }, Dense, stopAt: 3);

        [Test]
        public void SparseRunWithLazyWeightDecayResumesBitForBit() => AssertResumesExactly(() =>
        {
            var o = Base();
            o.WeightDecay = 1e-2f;
            return o;
        }, Sparse, stopAt: 5);

        [Test]
        public void StreamedRunResumesBitForBit() => AssertResumesExactly(() =>
        {
            var o = Base();
            o.DataMode = MlpDataMode.Streaming;
            o.ValidationFraction = 0;
            return o;
        }, Dense, stopAt: 4);

        [Test]
        public void DataParallelRanksResumeBitForBit()
        {
            MlpModelParameters[] OnRanks(Func<int, IMlpCommunicator, MlpMulticlassTrainer.Options> options)
            {
                var comms = MlpInProcessCommunicator.Create(2, TimeSpan.FromSeconds(30));
                var models = new MlpModelParameters[2];
                var errors = new Exception[2];
                Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r =>
                {
                    var o = options(r, comms[r]);
                    o.Communicator = comms[r];
                    try { models[r] = Fit(o, Dense); }
                    catch (Exception e) { errors[r] = e; comms[r].Abort(e.Message); }
                });
                if (errors.Any(e => e is Interrupted))
                    return null;
                Assert.That(errors, Is.All.Null);
                return models;
            }
            string wholePath = Path.Combine(_dir, "whole.ckpt"), path = Path.Combine(_dir, "ranks.ckpt");
            var expected = OnRanks((r, c) => { var o = Base(); o.CheckpointPath = wholePath; return o; });
            Assert.That(OnRanks((r, c) => { var o = InterruptedAt(Base(), 3); o.CheckpointPath = path; return o; }), Is.Null);
            var resumed = OnRanks((r, c) => { var o = Base(); o.CheckpointPath = path; o.ResumeFromCheckpoint = true; return o; });
            for (int r = 0; r < 2; r++)
                Assert.That(TestData.AllWeights(resumed[r]), Is.EqualTo(TestData.AllWeights(expected[r])), $"rank {r}");
        }

        [Test]
        public void AFinishedCheckpointResumesToTheSameModelWithoutTraining()
        {
            string path = Path.Combine(_dir, "done.ckpt");
            var o = Base();
            o.CheckpointPath = path;
            var expected = Fit(o, Dense);
            var again = Base();
            again.CheckpointPath = path;
            again.ResumeFromCheckpoint = true;
            int epochsRun = 0;
            again.EpochCallback = _ => epochsRun++;
            var log = new List<string>();
            var resumed = Fit(again, Dense, log);
            Assert.That(epochsRun, Is.EqualTo(0));
            Assert.That(log, Has.Some.Contains("after epoch 7 of 7"));
            Assert.That(TestData.AllWeights(resumed), Is.EqualTo(TestData.AllWeights(expected)));
        }

        [Test]
        public void WithoutAFileTrainingStartsFromTheBeginning()
        {
            var plain = Fit(Base(), Dense);
            var o = Base();
            o.CheckpointPath = Path.Combine(_dir, "sub", "none.ckpt");
            o.ResumeFromCheckpoint = true;
            var log = new List<string>();
            var fresh = Fit(o, Dense, log);
            Assert.That(log, Has.Some.Contains("No checkpoint at"));
            Assert.That(TestData.AllWeights(fresh), Is.EqualTo(TestData.AllWeights(plain)), "checkpoints do not change training");
            Assert.That(File.Exists(o.CheckpointPath), "the directory is created and the checkpoint written");
        }

        [Test]
        public void ACheckpointOfAnotherRunIsRefusedNamingTheDifference()
        {
            string path = Path.Combine(_dir, "other.ckpt");
            var o = Base();
            o.CheckpointPath = path;
            Fit(o, Dense);
            var different = Base();
            different.BatchSize = 16;
            different.CheckpointPath = path;
            different.ResumeFromCheckpoint = true;
            var e = Assert.Throws<InvalidOperationException>(() => Fit(different, Dense));
            Assert.That(e.Message, Does.Contain("different training run").And.Contain("its batch is 32, this run's is 16"));
        }

        [TestCase(100, TestName = "DamagedCheckpointIsRefused")]
        [TestCase(-1, TestName = "TruncatedCheckpointIsRefused")]
        public void ADamagedCheckpointIsRefused(int offset)
        {
            string path = Path.Combine(_dir, "bad.ckpt");
            var o = Base();
            o.CheckpointPath = path;
            Fit(o, Dense);
            var bytes = File.ReadAllBytes(path);
            if (offset >= 0)
                bytes[offset] ^= 0x40;
            else
                Array.Resize(ref bytes, bytes.Length / 2);
            File.WriteAllBytes(path, bytes);
            o.ResumeFromCheckpoint = true;
            var e = Assert.Throws<InvalidOperationException>(() => Fit(o, Dense));
            Assert.That(e.Message, Does.Contain("is damaged"));
            File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
            e = Assert.Throws<InvalidOperationException>(() => Fit(o, Dense));
            Assert.That(e.Message, Does.Contain("is not an MlNetMlp training checkpoint"));
        }

        [Test]
        public void AnUnusableCheckpointPathIsAClearError()
        {
            var o = Base();
            o.CheckpointPath = _dir; // a directory
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(o, Dense));
            Assert.That(e.Message, Does.Contain("is a directory"));
            var blocker = Path.Combine(_dir, "file");
            File.WriteAllText(blocker, "not a directory");
            o.CheckpointPath = Path.Combine(blocker, "run.ckpt"); // its directory cannot be created
            var w = Assert.Throws<InvalidOperationException>(() => Fit(o, Dense));
            Assert.That(w.Message, Does.Contain("Cannot write the checkpoint").And.Contain("writable file"));
        }

        [Test]
        public void CheckpointOptionsAreValidated()
        {
            var ml = new MLContext(seed: 1);
            Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { ResumeFromCheckpoint = true }));
            var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
                ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { CheckpointPath = "x", CheckpointInterval = 0 }));
            Assert.That(e.ParamName, Is.EqualTo("CheckpointInterval"));
        }
    }
}
