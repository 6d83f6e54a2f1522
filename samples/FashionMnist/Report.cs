using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace FashionMnist
{
    /// <summary>The comparison table: printed, and written as Markdown and CSV.</summary>
    public static class Report
    {
        private static readonly string[] Header =
            { "Trainer", "Training time (s)", "Micro accuracy", "Macro accuracy", "Log-loss", "model.zip (KiB)", "Transform (rows/s)", "PredictionEngine (rows/s)" };

        private static string[] Cells(TrainerResult r) => new[]
        {
            r.Trainer.Display,
            r.TrainingTime.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
            r.Metrics.MicroAccuracy.ToString("F4", CultureInfo.InvariantCulture),
            r.Metrics.MacroAccuracy.ToString("F4", CultureInfo.InvariantCulture),
            r.Metrics.LogLoss.ToString("F4", CultureInfo.InvariantCulture),
            (r.ModelBytes / 1024.0).ToString("F0", CultureInfo.InvariantCulture),
            r.TransformRowsPerSecond.ToString("F0", CultureInfo.InvariantCulture),
            r.PredictionEngineRowsPerSecond.ToString("F0", CultureInfo.InvariantCulture),
        };

        /// <summary>A fixed-width table for the console.</summary>
        public static string Text(IReadOnlyList<TrainerResult> results)
        {
            var rows = new[] { Header }.Concat(results.Select(Cells)).ToArray();
            var widths = Enumerable.Range(0, Header.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            var sb = new StringBuilder();
            foreach (var (row, i) in rows.Select((r, i) => (r, i)))
            {
                sb.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
                if (i == 0)
                    sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
            return sb.ToString();
        }

        /// <summary>A GitHub Markdown table.</summary>
        public static string Markdown(IReadOnlyList<TrainerResult> results)
        {
            var sb = new StringBuilder();
            sb.AppendLine("| " + string.Join(" | ", Header) + " |");
            sb.AppendLine("|" + string.Concat(Header.Select((_, c) => c == 0 ? "---|" : "---:|")));
            foreach (var r in results)
                sb.AppendLine("| " + string.Join(" | ", Cells(r)) + " |");
            return sb.ToString();
        }

        /// <summary>RFC 4180 CSV.</summary>
        public static string Csv(IReadOnlyList<TrainerResult> results)
        {
            static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
            var sb = new StringBuilder();
            sb.AppendLine(string.Join(",", Header.Select(Quote)));
            foreach (var r in results)
                sb.AppendLine(string.Join(",", Cells(r).Select(Quote)));
            return sb.ToString();
        }

        /// <summary>Writes results.md and results.csv into <paramref name="directory"/>.</summary>
        public static void Write(IReadOnlyList<TrainerResult> results, string directory)
        {
            File.WriteAllText(Path.Combine(directory, "results.md"), Markdown(results));
            File.WriteAllText(Path.Combine(directory, "results.csv"), Csv(results));
        }
    }
}
