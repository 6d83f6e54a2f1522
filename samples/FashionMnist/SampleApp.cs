using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp;

namespace FashionMnist
{
    /// <summary>The sample: train an MLP on Fashion-MNIST, evaluate, save model.zip, reload it, predict a few images.</summary>
    public static class SampleApp
    {
        /// <summary>Runs the sample; returns the process exit code.</summary>
        public static int Run(string[] args, TextWriter output)
        {
            SampleOptions options;
            try
            {
                options = SampleOptions.Parse(args);
            }
            catch (ArgumentException e)
            {
                output.WriteLine($"error: {e.Message}");
                output.WriteLine(SampleOptions.Usage);
                return 2;
            }
            if (options.ShowHelp)
            {
                output.WriteLine(SampleOptions.Usage);
                return 0;
            }

            Dataset data;
            try
            {
                data = Dataset.Load(options.DataDirectory);
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException)
            {
                output.WriteLine($"error: {e.Message}");
                return 1;
            }
            output.WriteLine($"Data: {data.Description}");
            int featureCount = data.Train[0].Features.Length;
            output.WriteLine($"      {data.Train.Length} training and {data.Test.Length} test images of {featureCount} pixels, {data.ClassNames.Length} classes");

            var ml = new MLContext(seed: options.Seed);
            var train = Dataset.ToDataView(ml, data.Train, featureCount);
            var test = Dataset.ToDataView(ml, data.Test, featureCount);

            var trainerOptions = new MlpMulticlassTrainer.Options { NumberOfThreads = options.Threads };
            if (options.HiddenLayerSizes != null) trainerOptions.HiddenLayerSizes = options.HiddenLayerSizes;
            if (options.Epochs.HasValue) trainerOptions.NumberOfEpochs = options.Epochs.Value;
            trainerOptions.EpochCallback = r => output.WriteLine(
                $"  epoch {r.Epoch,3}/{r.NumberOfEpochs}  loss {r.TrainingLoss:F4}  elapsed {r.Elapsed.TotalSeconds,6:F1} s  " +
                $"ETA {r.Elapsed.TotalSeconds / r.Epoch * (r.NumberOfEpochs - r.Epoch),6:F1} s");

            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features"))
                .Append(ml.MulticlassClassification.Trainers.Mlp(trainerOptions))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

            output.WriteLine($"Training an MLP (hidden layers {string.Join(",", trainerOptions.HiddenLayerSizes)}, {trainerOptions.NumberOfEpochs} epochs, " +
                $"batch {trainerOptions.BatchSize}, {trainerOptions.Optimizer} lr {trainerOptions.LearningRate})");
            var clock = Stopwatch.StartNew();
            var model = pipeline.Fit(train);
            var trainSeconds = clock.Elapsed.TotalSeconds;

            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
            output.WriteLine($"Test: micro accuracy {metrics.MicroAccuracy:F4}, macro accuracy {metrics.MacroAccuracy:F4}, " +
                $"log-loss {metrics.LogLoss:F4}; training took {trainSeconds:F1} s");

            Directory.CreateDirectory(options.OutputDirectory);
            var modelPath = Path.Combine(options.OutputDirectory, "model.zip");
            ml.Model.Save(model, train.Schema, modelPath);
            output.WriteLine($"Saved {modelPath} ({new FileInfo(modelPath).Length / 1024.0:F0} KiB)");

            var reloaded = ml.Model.Load(modelPath, out _);
            var engine = ml.Model.CreatePredictionEngine<ImageRow, Prediction>(reloaded, inputSchemaDefinition: Dataset.SchemaFor(featureCount));
            output.WriteLine("Predictions of the reloaded model on the first test images:");
            foreach (var row in data.Test.Take(5))
            {
                var p = engine.Predict(row);
                output.WriteLine($"  actual {row.Label,-12} predicted {p.PredictedLabel,-12} (p = {p.Score.Max():F3})");
            }
            return 0;
        }

        /// <summary>The columns read back from the pipeline.</summary>
        public sealed class Prediction
        {
            /// <summary>Class name of the most probable class.</summary>
            public string PredictedLabel { get; set; }

            /// <summary>Class probabilities.</summary>
            public float[] Score { get; set; }
        }
    }
}
