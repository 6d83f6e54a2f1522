using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Tabular
{
    /// <summary>The suite's table: median error per set and trainer, each MLP's ratio to LightGbm and to the best built-in
    /// trainer, the geometric mean of the ratios, wins, and total fit times.</summary>
    public static class Report
    {
        public static string Markdown(List<RunResult> results, List<string> trainers, string scale)
        {
            var inv = CultureInfo.InvariantCulture;
            var sets = results.Select(r => r.Set).Distinct().ToList();
            var builtIn = trainers.Where(t => results.Any(r => r.Trainer == t && !r.IsMlp)).ToList();
            var mlps = trainers.Where(t => results.Any(r => r.Trainer == t && r.IsMlp)).ToList();
            double Median(string set, string trainer)
            {
                var v = results.Where(r => r.Set == set && r.Trainer == trainer).Select(r => r.Error).OrderBy(e => e).ToArray();
                return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
            }
            double Best(string set) => builtIn.Select(t => Median(set, t)).Where(e => !double.IsNaN(e)).DefaultIfEmpty(double.NaN).Min();

            var sb = new StringBuilder();
            int seeds = results.Select(r => r.Seed).Distinct().Count();
            sb.AppendLine($"Median over {seeds} seeds of the test error (classification: 1 - accuracy; regression: RMSE / std of the test labels); numeric columns {scale}.");
            sb.AppendLine();
            sb.AppendLine("| set | task | " + string.Join(" | ", trainers) + " |" + string.Concat(mlps.Select(m => $" {m} ÷ LightGbm |")));
            sb.AppendLine("|---|---|" + string.Concat(trainers.Select(_ => "---:|")) + string.Concat(mlps.Select(_ => "---:|")));
            foreach (var set in sets)
            {
                var task = results.First(r => r.Set == set).Task;
                double best = Best(set);
                sb.Append($"| {set} | {task.ToString().ToLowerInvariant()} |");
                foreach (var t in trainers)
                {
                    double e = Median(set, t);
                    string cell = double.IsNaN(e) ? "—" : e.ToString("F4", inv);
                    sb.Append(!double.IsNaN(e) && e <= best + 1e-12 ? $" **{cell}** |" : $" {cell} |");
                }
                foreach (var m in mlps)
                    sb.Append($" {(Median(set, m) / Median(set, "LightGbm")).ToString("F3", inv)} |");
                sb.AppendLine();
            }
            sb.AppendLine();
            sb.AppendLine("| MLP variant | geomean ÷ LightGbm | geomean ÷ best built-in | best or tied | worst ÷ best built-in | fit time (s) | fit time ÷ LightGbm's |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            double Seconds(string t) => results.Where(r => r.Trainer == t).Sum(r => r.Seconds) / seeds;
            foreach (var m in mlps)
            {
                var vsLgbm = sets.Select(s => Median(s, m) / Median(s, "LightGbm")).ToArray();
                var vsBest = sets.Select(s => Median(s, m) / Best(s)).ToArray();
                int wins = sets.Count(s => Median(s, m) <= Best(s) + 1e-12);
                sb.AppendLine($"| {m} | {Geomean(vsLgbm).ToString("F3", inv)} | {Geomean(vsBest).ToString("F3", inv)} | {wins} of {sets.Count} | " +
                    $"{vsBest.Max().ToString("F2", inv)} ({sets[Array.IndexOf(vsBest, vsBest.Max())]}) | {Seconds(m).ToString("F1", inv)} | " +
                    $"{(Seconds(m) / Seconds("LightGbm")).ToString("F2", inv)} |");
            }
            sb.AppendLine();
            sb.AppendLine("Fit time per seed over the suite (s): " + string.Join(", ", trainers.Select(t => $"{t} {Seconds(t).ToString("F1", inv)}")) + ".");
            return sb.ToString();
        }

        /// <summary>Geometric mean of positive ratios (a zero error counts as 1e-4 so that one perfect set does not decide).</summary>
        private static double Geomean(double[] ratios)
        {
            var finite = ratios.Where(r => !double.IsNaN(r) && !double.IsInfinity(r)).Select(r => Math.Max(r, 1e-4)).ToArray();
            return finite.Length == 0 ? double.NaN : Math.Exp(finite.Average(Math.Log));
        }
    }
}
