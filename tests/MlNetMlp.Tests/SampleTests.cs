using System;
using System.Globalization;
using System.IO;
using System.Linq;
using FashionMnist;
using Microsoft.ML;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>The sample (the README's main command): argument handling and a short run on the embedded data.</summary>
    public sealed class SampleTests
    {
        [Test]
        public void OptionsParseAndRejectBadInput()
        {
            var o = SampleOptions.Parse(new[] { "--trainers", "mlp,NaiveBayes", "--epochs", "3", "--hidden", "64,32", "--threads", "2", "--out", "x", "--seed", "7" });
            Assert.That(o.Trainers, Is.EqualTo(new[] { "mlp", "naivebayes" }));
            Assert.That((o.Epochs, o.Threads, o.OutputDirectory, o.Seed), Is.EqualTo((3, 2, "x", 7)));
            Assert.That(o.HiddenLayerSizes, Is.EqualTo(new[] { 64, 32 }));
            Assert.That(SampleOptions.Parse(new[] { "--hidden", "none" }).HiddenLayerSizes, Is.Empty);
            Assert.That(SampleOptions.Parse(Array.Empty<string>()).Trainers, Is.EqualTo(TrainerChoices.Names.Where(n => n != "mlp-bf16")));

            Assert.That(Assert.Throws<ArgumentException>(() => SampleOptions.Parse(new[] { "--trainers", "svm" })).Message, Does.Contain("unknown trainer 'svm'"));
            Assert.That(Assert.Throws<ArgumentException>(() => SampleOptions.Parse(new[] { "--epochs", "0" })).Message, Does.Contain("positive"));
            Assert.That(Assert.Throws<ArgumentException>(() => SampleOptions.Parse(new[] { "--epochs" })).Message, Does.Contain("needs a value"));
            Assert.That(Assert.Throws<ArgumentException>(() => SampleOptions.Parse(new[] { "--threads", "two" })).Message, Does.Contain("integer"));
            Assert.That(Assert.Throws<ArgumentException>(() => SampleOptions.Parse(new[] { "--frobnicate" })).Message, Does.Contain("unknown argument"));
        }

        [Test]
        public void BadArgumentsPrintUsageAndExitWithTwo()
        {
            var output = new StringWriter();
            Assert.That(SampleApp.Run(new[] { "--trainers", "nope" }, output), Is.EqualTo(2));
            Assert.That(output.ToString(), Does.Contain("usage: FashionMnist"));
            output = new StringWriter();
            Assert.That(SampleApp.Run(new[] { "--help" }, output), Is.EqualTo(0));
            Assert.That(output.ToString(), Does.Contain("--trainers"));
            output = new StringWriter();
            Assert.That(SampleApp.Run(new[] { "--data", "/nonexistent/folder" }, output), Is.EqualTo(1));
            Assert.That(output.ToString(), Does.Contain("does not exist"));
        }

        [Test]
        public void WithoutTheFullSetTheEmbeddedSubsetIsUsedAndSaidSo()
        {
            var data = Dataset.Load(null, installedDirectory: "/nonexistent/fashion-mnist");
            Assert.That(data.IsEmbeddedSubset, Is.True);
            Assert.That(data.Description, Does.Contain("embedded"));
            Assert.That((data.Train.Length, data.Test.Length), Is.EqualTo((4000, 1000)));
            Assert.That(data.Train.Select(r => r.Label).Distinct().Count(), Is.EqualTo(10));
            Assert.That(data.Train.All(r => r.Features.Length == 784 && r.Features.All(v => v >= 0 && v <= 1)), Is.True);
        }

        [Test]
        public void ShortRunOnTheEmbeddedDataWritesTablesPlotsAndModelsFromRealMeasurements()
        {
            var dir = Path.Combine(Path.GetTempPath(), "mlnetmlp-sample-" + Guid.NewGuid().ToString("N"));
            try
            {
                var output = new StringWriter();
                int code = SampleApp.Run(new[] { "--data", Dataset.EmbeddedDirectory, "--trainers", "mlp-linear,mlp,naivebayes", "--epochs", "2",
                    "--hidden", "32", "--out", dir }, output);
                var text = output.ToString();
                Assert.That(code, Is.EqualTo(0), text);
                Assert.That(text, Does.Contain("epoch   2/2"), "live progress");
                Assert.That(text, Does.Contain("Predictions of mlp-linear.zip"));

                foreach (var file in new[] { "results.md", "results.csv", "confusion-matrix.txt", "confusion-matrix.png", "learning-curve-mlp.png", "learning-curve-mlp-linear.png" })
                    Assert.That(File.Exists(Path.Combine(dir, file)), Is.True, file);
                foreach (var png in Directory.GetFiles(dir, "*.png"))
                    Assert.That(File.ReadAllBytes(png).Take(4), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47 }), png);
                Assert.That(File.ReadAllText(Path.Combine(dir, "confusion-matrix.txt")), Does.Contain("Sneaker").And.Contain("Ankle boot"));

                // The table's accuracy is the saved model's accuracy, measured again here independently.
                var csv = File.ReadAllLines(Path.Combine(dir, "results.csv"));
                Assert.That(csv.Length, Is.EqualTo(4));
                var row = csv.Single(l => l.StartsWith("NaiveBayes"));
                double reported = double.Parse(row.Split(',')[2], CultureInfo.InvariantCulture);
                var ml = new MLContext(seed: 1);
                var data = Dataset.Load(Dataset.EmbeddedDirectory);
                var model = ml.Model.Load(Path.Combine(dir, "models", "naivebayes.zip"), out _);
                var metrics = ml.MulticlassClassification.Evaluate(model.Transform(Dataset.ToDataView(ml, data.Test, 784)));
                Assert.That(reported, Is.EqualTo(metrics.MicroAccuracy).Within(0.00005));
                Assert.That(File.ReadAllText(Path.Combine(dir, "results.md")), Does.Contain("| MlNetMlp, no hidden layer |"));
            }
            finally
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            }
        }
    }
}
