using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.TestShared;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Whatever a file or a caller throws at MlNetMlp ends in a clear exception or a correct result.</summary>
    public sealed class RobustnessTests
    {
        private static (MLContext Ml, ITransformer Model, IDataView Data, byte[] Zip) SmallModel()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(120, classes: 3, dims: 6, seed: 4);
            var data = TestData.ToDataView(ml, rows, 6);
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 8 }, NumberOfEpochs = 3 }).Fit(keyed);
            using var stream = new MemoryStream();
            ml.Model.Save(model, keyed.Schema, stream);
            return (ml, model, keyed, stream.ToArray());
        }

        /// <summary>The zip entry that holds the MlNetMlp model (its header carries the MLPMULTI signature).</summary>
        private static string EntryName(byte[] zip)
        {
            using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
            return archive.Entries.Single(e => Encoding.ASCII.GetString(Read(e)).Contains("MLPMULTI")).FullName;
        }

        private static byte[] Read(ZipArchiveEntry entry)
        {
            using var s = entry.Open();
            using var copy = new MemoryStream();
            s.CopyTo(copy);
            return copy.ToArray();
        }

        private static byte[] Entry(byte[] zip)
        {
            using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
            return Read(archive.GetEntry(EntryName(zip)));
        }

        private static byte[] WithEntry(byte[] zip, byte[] content)
        {
            string name = EntryName(zip);
            using var output = new MemoryStream();
            using (var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
            using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
                foreach (var entry in source.Entries)
                {
                    using var to = target.CreateEntry(entry.FullName).Open();
                    if (entry.FullName == name)
                        to.Write(content);
                    else
                        using (var from = entry.Open()) from.CopyTo(to);
                }
            return output.ToArray();
        }

        /// <summary>A clear rejection of a damaged file: ML.NET reports a failing model loader as an
        /// InvalidOperationException ("Error during class instantiation") around the loader's exception, which must be a
        /// FormatException saying what is wrong; ML.NET's own header checks throw FormatException directly.</summary>
        private static bool IsClearRejection(Exception e)
        {
            if (e is FormatException)
                return true;
            if (e is InvalidOperationException)
            {
                var inner = e;
                while (inner.InnerException != null) inner = inner.InnerException;
                return inner is FormatException || inner == e;
            }
            return false;
        }

        [Test]
        public void FuzzedModelEntriesAreRejectedOrScoreIdentically()
        {
            var (ml, model, data, zip) = SmallModel();
            var expected = ScoredRows.Read(model.Transform(data));
            var entry = Entry(zip);
            Assert.That(Encoding.ASCII.GetString(entry), Does.Contain("MLPMULTI"), "found the MlNetMlp entry");
            long fpModel = BinaryPrimitives.ReadInt64LittleEndian(entry.AsSpan(0x10)), cbModel = BinaryPrimitives.ReadInt64LittleEndian(entry.AsSpan(0x18));
            Assert.That(fpModel, Is.GreaterThan(0));
            Assert.That(fpModel + cbModel, Is.LessThanOrEqualTo(entry.Length));

            var random = new Random(12345);
            int rejected = 0, identical = 0;
            var clock = Stopwatch.StartNew();
            const int Mutations = 3000;
            for (int i = 0; i < Mutations; i++)
            {
                var mutated = Mutate(entry, random, (int)fpModel, (int)(fpModel + cbModel), out string what);
                if (mutated.AsSpan().SequenceEqual(entry)) continue;
                try
                {
                    using var stream = new MemoryStream(WithEntry(zip, mutated));
                    var loaded = ml.Model.Load(stream, out _);
                    var scores = ScoredRows.Read(loaded.Transform(data));
                    Assert.That(scores, Is.EqualTo(expected), $"mutation {i} ({what}) loaded but scores differently");
                    identical++;
                }
                catch (Exception e) when (IsClearRejection(e))
                {
                    rejected++;
                    if (rejected == 1)
                        TestContext.Out.WriteLine($"first rejection ({what}): {e.GetType().Name}: {e.Message} <- {Innermost(e).Message}");
                }
                catch (Exception e) when (e is not AssertionException)
                {
                    Assert.Fail($"mutation {i} ({what}) raised an unclear {e.GetType().Name}: {e.Message}");
                }
            }
            TestContext.Out.WriteLine($"{Mutations} mutations of the MlNetMlp payload: {rejected} rejected, {identical} loaded with identical scores, {clock.Elapsed.TotalSeconds:F1} s");
            Assert.That(identical, Is.Zero, "every byte of the payload is covered by a size check or a checksum: any change is rejected");
            Assert.That(rejected, Is.GreaterThan(Mutations * 9 / 10));
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        private static byte[] Mutate(byte[] entry, Random random, int payloadStart, int payloadEnd, out string what)
        {
            var m = (byte[])entry.Clone();
            int span = payloadEnd - payloadStart;
            switch (random.Next(5))
            {
                case 0:
                    int cut = payloadStart + random.Next(span);
                    what = $"truncated at {cut}";
                    return m.AsSpan(0, cut).ToArray();
                case 1:
                    int bits = 1 + random.Next(3);
                    what = $"{bits} bit flip(s)";
                    for (int b = 0; b < bits; b++)
                        m[payloadStart + random.Next(span)] ^= (byte)(1 << random.Next(8));
                    return m;
                case 2:
                    int at = payloadStart + random.Next(span), len = Math.Min(1 + random.Next(16), payloadEnd - at);
                    what = $"{len} random bytes at {at}";
                    random.NextBytes(m.AsSpan(at, len));
                    return m;
                case 3:
                    // a layer size or count field: the first 64 bytes of the payload hold them
                    int field = payloadStart + 4 * random.Next(Math.Min(16, span / 4));
                    int value = random.Next(4) switch { 0 => int.MaxValue, 1 => -1, 2 => 1 << 24, _ => random.Next() };
                    BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(field), value);
                    what = $"field at {field} set to {value}";
                    return m;
                default:
                    int a = payloadStart + 4 * random.Next(span / 4), c = payloadStart + 4 * random.Next(span / 4);
                    var tmp = m.AsSpan(a, 4).ToArray();
                    m.AsSpan(c, 4).CopyTo(m.AsSpan(a, 4));
                    tmp.CopyTo(m.AsSpan(c, 4));
                    what = $"swapped 4-byte fields at {a} and {c}";
                    return m;
            }
        }

        [Test]
        public void DamagedHeaderOrZipNeverCrashes()
        {
            var (ml, model, data, zip) = SmallModel();
            var entry = Entry(zip);
            var random = new Random(7);
            for (int i = 0; i < 300; i++)
            {
                var m = (byte[])entry.Clone();
                m[random.Next(0x100)] ^= (byte)(1 << random.Next(8)); // ML.NET's own model header
                try
                {
                    using var stream = new MemoryStream(WithEntry(zip, m));
                    ScoredRows.Read(ml.Model.Load(stream, out _).Transform(data));
                }
                catch (Exception) { /* any managed exception is fine here: the point is no crash or hang */ }
            }
            var truncatedZip = zip.AsSpan(0, zip.Length / 2).ToArray();
            Assert.Catch<Exception>(() => ml.Model.Load(new MemoryStream(truncatedZip), out _));
        }

        [Test]
        public void AFileFromANewerVersionIsAClearError()
        {
            var (ml, _, _, zip) = SmallModel();
            var entry = Entry(zip);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(0x4C), 0x00020001); // readable only by format 2.1+
            var e = Assert.Catch<Exception>(() => ml.Model.Load(new MemoryStream(WithEntry(zip, entry)), out _));
            Assert.That(IsClearRejection(e), Is.True, e.ToString());
            Assert.That(e.ToString(), Does.Contain("version").IgnoreCase);
        }

        [Test]
        public void ConcurrentScoringMatchesSingleThreadedScoring()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(2000, classes: 4, dims: 30, seed: 3);
            var data = TestData.ToDataView(ml, rows, 30);
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 64, 32 }, NumberOfEpochs = 2 }))
                .Fit(data);
            var expected = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(data), false).Select(s => s.Score).ToArray();

            var failures = new List<string>();
            var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            {
                if (t % 2 == 0)
                {
                    var engine = ml.Model.CreatePredictionEngine<LabeledRow, ScoreOnly>(model, inputSchemaDefinition: TestData.Schema(30));
                    for (int i = 0; i < rows.Length; i++)
                        if (!engine.Predict(rows[i]).Score.SequenceEqual(expected[i]))
                            lock (failures) failures.Add($"engine {t} row {i}");
                }
                else
                {
                    var scores = ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(data), false).Select(s => s.Score).ToArray();
                    for (int i = 0; i < rows.Length; i++)
                        if (!scores[i].SequenceEqual(expected[i]))
                            lock (failures) failures.Add($"transform {t} row {i}");
                }
            })).ToArray();
            Assert.That(Task.WaitAll(tasks, TimeSpan.FromMinutes(2)), Is.True, "no hang");
            Assert.That(failures, Is.Empty, "8 threads x 2000 rows");
        }

        [Test]
        public void TwoModelsTrainAtOnceAsTheyWouldAlone()
        {
            float[] Train(int seed)
            {
                var ml = new MLContext(seed: seed);
                var rows = TestData.Blobs(1500, classes: 3, dims: 20, seed: seed);
                var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 20)).Transform(TestData.ToDataView(ml, rows, 20));
                var m = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 64 }, NumberOfEpochs = 4, BatchSize = 32 }).Fit(data).Model;
                return m.GetWeights(0).Concat(m.GetWeights(1)).ToArray();
            }
            var alone = new[] { Train(1), Train(2) };
            var together = new float[2][];
            Parallel.For(0, 2, i => together[i] = Train(i + 1));
            Assert.That(together[0], Is.EqualTo(alone[0]));
            Assert.That(together[1], Is.EqualTo(alone[1]));
        }

        [Test]
        public void TrainingAndDroppingManyModelsKeepsMemoryFlat()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(500, classes: 3, dims: 200, seed: 2);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 200)).Transform(TestData.ToDataView(ml, rows, 200));
            // each model holds ~1 MB of native weights, plus optimizer state and the data copy while training
            void TrainSome(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 1024 }, NumberOfEpochs = 1 }).Fit(data);
                    ml.Data.CreateEnumerable<ScoreOnly>(model.Transform(data), false).Take(10).ToList();
                }
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }
            TrainSome(10);
            long before = Process.GetCurrentProcess().PrivateMemorySize64;
            TrainSome(40); // would hold ~160 MB if native memory leaked
            long after = Process.GetCurrentProcess().PrivateMemorySize64;
            TestContext.Out.WriteLine($"private memory {before / 1048576} MB -> {after / 1048576} MB over 40 models");
            Assert.That(after - before, Is.LessThan(60L * 1024 * 1024));
        }

        [Test]
        public void NoUsableRowsIsAClearError()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Rings(20, 1);
            var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.ToDataView(ml, rows, 2));
            foreach (var r in rows) r.Label = "unseen"; // NaN features are imputed; a label outside the key set is no example
            var data = keys.Transform(TestData.ToDataView(ml, rows, 2));
            var e = Assert.Throws<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.Mlp().Fit(data));
            Assert.That(e.Message, Does.Contain("no usable rows"));
        }
    }
}
