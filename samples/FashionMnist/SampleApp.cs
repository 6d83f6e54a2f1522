using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FashionMnist
{
    /// <summary>The main job: MlNetMlp against ML.NET's built-in trainers on Fashion-MNIST, on one split in one
    /// process; a results table (console, Markdown, CSV), learning curves, the best model's confusion matrix, and a
    /// reloaded model.zip predicting a few test images.</summary>
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
            output.WriteLine($"      {data.Train.Length} training and {data.Test.Length} test images of {data.Train[0].Features.Length} pixels, {data.ClassNames.Length} classes");
            Directory.CreateDirectory(options.OutputDirectory);

            var ml = new MLContext(seed: options.Seed);
            var comparison = new Comparison(ml, data, options, output);
            var results = options.Trainers.Select(name => comparison.Run(TrainerChoices.Get(name))).ToList();

            output.WriteLine();
            output.WriteLine($"Results on the {data.Test.Length} test images ({(data.IsEmbeddedSubset ? "embedded subset" : data.Directory)}):");
            output.Write(Report.Text(results));
            Report.Write(results, options.OutputDirectory);

            foreach (var r in results.Where(r => r.History.Count > 0))
                Plots.LearningCurve(r.History, $"{r.Trainer.Display}: learning curve", Path.Combine(options.OutputDirectory, $"learning-curve-{r.Trainer.Name}.png"));
            var best = results.OrderByDescending(r => r.Metrics.MicroAccuracy).First();
            var classNames = ClassNames(best.Model.Transform(comparison.Test));
            File.WriteAllText(Path.Combine(options.OutputDirectory, "confusion-matrix.txt"), ConfusionText(best, classNames));
            Plots.ConfusionMatrix(best.Metrics.ConfusionMatrix.Counts, classNames, $"{best.Trainer.Display}: confusion matrix (test)",
                Path.Combine(options.OutputDirectory, "confusion-matrix.png"));
            output.WriteLine($"Best: {best.Trainer.Display} ({best.Metrics.MicroAccuracy:F4}). Wrote results.md, results.csv, confusion-matrix.png/.txt, " +
                $"learning-curve-*.png and models/*.zip to {Path.GetFullPath(options.OutputDirectory)}");

            PredictWithReloadedModel(ml, results.FirstOrDefault(r => r.Trainer.IsMlp) ?? best, data, output);
            return 0;
        }

        /// <summary>Loads a saved model.zip back and predicts the first test images.</summary>
        private static void PredictWithReloadedModel(MLContext ml, TrainerResult result, Dataset data, TextWriter output)
        {
            var reloaded = ml.Model.Load(result.ModelPath, out _);
            var engine = ml.Model.CreatePredictionEngine<ImageRow, ImagePrediction>(reloaded,
                inputSchemaDefinition: Dataset.SchemaFor(data.Train[0].Features.Length));
            output.WriteLine($"Predictions of {Path.GetFileName(result.ModelPath)} ({result.Trainer.Display}) reloaded from disk, on the first test images:");
            foreach (var row in data.Test.Take(5))
            {
                var p = engine.Predict(row);
                output.WriteLine($"  actual {row.Label,-12} predicted {p.PredictedLabel,-12} (p = {p.Score.Max():F3})");
            }
        }

        /// <summary>The class names in key order (the order of the confusion matrix).</summary>
        private static string[] ClassNames(IDataView scored)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            scored.Schema["Label"].GetKeyValues(ref names);
            return names.DenseValues().Select(n => n.ToString()).ToArray();
        }

        private static string ConfusionText(TrainerResult result, string[] classNames)
        {
            var counts = result.Metrics.ConfusionMatrix.Counts;
            int width = Math.Max(12, classNames.Max(n => n.Length) + 1);
            var sb = new StringBuilder();
            sb.AppendLine($"Confusion matrix of {result.Trainer.Display} on the test set (rows: actual class, columns: predicted class)");
            sb.Append("".PadRight(width));
            foreach (var name in classNames) sb.Append(name.PadLeft(width));
            sb.AppendLine("    recall");
            for (int i = 0; i < classNames.Length; i++)
            {
                sb.Append(classNames[i].PadRight(width));
                foreach (var c in counts[i]) sb.Append(c.ToString("F0").PadLeft(width));
                sb.AppendLine($"    {result.Metrics.ConfusionMatrix.PerClassRecall[i]:F4}");
            }
            sb.Append("precision".PadRight(width));
            foreach (var p in result.Metrics.ConfusionMatrix.PerClassPrecision) sb.Append(p.ToString("F4").PadLeft(width));
            sb.AppendLine();
            return sb.ToString();
        }
    }
}
