// The tabular benchmark: mlbench's classic data sets, raw columns (NaN kept, categoricals one-hot, no normalizer) into
// MlNetMlp and ML.NET's built-in trainers with their defaults, the same 80/20 splits for every trainer.
//
// usage: dotnet run -c Release --project samples/Tabular -- [options]
//   --data DIR        the exported suite (default build/mlbench; exported there from Debian's r-cran-mlbench when missing)
//   --sets A,B        only these sets (default: all in suite.tsv)
//   --seeds 1,2,3     split (and trainer) seeds; medians over them are reported (default 1,2,3)
//   --trainers LIST   built-in trainers: lightgbm,fasttree,sdca (default all; "none" for none)
//   --mlp NAME=SPEC   an MLP variant, SPEC = "Option=value;..." (repeatable; default one variant "mlp" with the defaults)
//   --scale raw|normalized|1e30   what to do to the numeric columns first (default raw)
//   --threads N       threads for every trainer that takes a count (default 2)
//   --out FILE        also write the results as markdown (and FILE.csv with every run)
//   --dump DIR        also write each split's featurized rows (label, then features; NaN kept) as DIR/<set>-<seed>-{train,test}.csv
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Tabular;

var args_ = new Queue<string>(args);
string dataDir = "build/mlbench", outFile = null, scale = "raw", dumpDir = null;
string[] setFilter = null, builtIn = Trainers.BuiltIn;
int[] seeds = { 1, 2, 3 };
int threads = 2;
var mlps = new List<(string Name, string Spec)>();
while (args_.Count > 0)
{
    string a = args_.Dequeue();
    string Next() => args_.Count > 0 ? args_.Dequeue() : throw new ArgumentException($"{a} needs a value");
    switch (a)
    {
        case "--data": dataDir = Next(); break;
        case "--sets": setFilter = Next().Split(','); break;
        case "--seeds": seeds = Next().Split(',').Select(int.Parse).ToArray(); break;
        case "--trainers": { var t = Next(); builtIn = t == "none" ? Array.Empty<string>() : t.Split(','); break; }
        case "--mlp":
            {
                var v = Next();
                int eq = v.IndexOf('=');
                mlps.Add(eq < 0 ? (v, "") : (v[..eq], v[(eq + 1)..]));
                break;
            }
        case "--scale": scale = Next(); break;
        case "--threads": threads = int.Parse(Next()); break;
        case "--out": outFile = Next(); break;
        case "--dump": dumpDir = Next(); break;
        case "--help": Console.WriteLine(Usage.Text); return 0;
        default: Console.Error.WriteLine($"unknown argument {a}"); return 2;
    }
}
if (mlps.Count == 0) mlps.Add(("mlp", ""));
if (!(scale is "raw" or "normalized" or "1e30"))
{
    Console.Error.WriteLine("--scale must be raw, normalized or 1e30");
    return 2;
}

if (!File.Exists(Path.Combine(dataDir, "suite.tsv")))
{
    Console.WriteLine($"{dataDir}/suite.tsv not found: exporting the suite from Debian's r-cran-mlbench");
    var export = Process.Start(new ProcessStartInfo("/usr/bin/python3") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "mlbench-export.py"), dataDir } });
    export.WaitForExit();
    if (export.ExitCode != 0)
    {
        Console.Error.WriteLine("export failed: apt-get install r-cran-mlbench python3-rdata");
        return 1;
    }
}

var sets = TabularSet.ReadSuite(dataDir).Where(s => setFilter == null || setFilter.Contains(s.Name)).ToList();
var trainers = builtIn.Select(t => Trainers.BuiltInTrainer(t, threads)).Concat(mlps.Select(m => Trainers.Mlp(m.Name, m.Spec, threads))).ToList();
var results = new List<RunResult>();
Console.WriteLine($"{sets.Count} sets x {seeds.Length} seeds; trainers: {string.Join(", ", trainers.Select(t => t.Name))}; numeric columns {scale}; {threads} threads");
foreach (var set in sets)
{
    foreach (int seed in seeds)
    {
        var ml = new MLContext(seed: seed);
        var raw = set.Load(ml);
        var split = ml.Data.TrainTestSplit(raw, testFraction: 0.2, seed: seed);
        var featurizer = set.Featurizer(ml, set.Task == TaskKind.Binary ? set.LabelValues(raw) : null,
            scale == "1e30" ? 1e30 : 1, normalize: scale == "normalized").Fit(split.TrainSet);
        var train = ml.Data.Cache(featurizer.Transform(split.TrainSet));
        var test = ml.Data.Cache(featurizer.Transform(split.TestSet));
        Evaluation.Touch(train);
        Evaluation.Touch(test);
        if (dumpDir != null)
        {
            Directory.CreateDirectory(dumpDir);
            Evaluation.Dump(train, Path.Combine(dumpDir, $"{set.Name}-{seed}-train.csv"));
            Evaluation.Dump(test, Path.Combine(dumpDir, $"{set.Name}-{seed}-test.csv"));
        }
        foreach (var trainer in trainers)
        {
            var clock = Stopwatch.StartNew();
            ITransformer model;
            try
            {
                model = trainer.Create(ml, set.Task, seed).Fit(train);
            }
            catch (Exception e) when (e is InvalidOperationException || e is ArgumentException)
            {
                Console.WriteLine($"{set.Name,-22} seed {seed} {trainer.Name,-10} failed: {e.Message}");
                results.Add(new RunResult(set.Name, set.Task, seed, trainer.Name, trainer.IsMlp, double.NaN, clock.Elapsed.TotalSeconds));
                continue;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double error = Evaluation.Error(ml, set.Task, model.Transform(test), test);
            results.Add(new RunResult(set.Name, set.Task, seed, trainer.Name, trainer.IsMlp, error, seconds));
            Console.WriteLine($"{set.Name,-22} seed {seed} {trainer.Name,-10} error {error,8:F4}  fit {seconds,7:F2} s");
        }
    }
}

var report = Report.Markdown(results, trainers.Select(t => t.Name).ToList(), scale);
Console.WriteLine();
Console.WriteLine(report);
if (outFile != null)
{
    File.WriteAllText(outFile, report);
    File.WriteAllLines(outFile + ".csv", new[] { "set,task,seed,trainer,error,seconds" }.Concat(results.Select(r =>
        string.Join(",", r.Set, r.Task, r.Seed, r.Trainer, r.Error.ToString("R", CultureInfo.InvariantCulture), r.Seconds.ToString("F3", CultureInfo.InvariantCulture)))));
}
return 0;

internal static class Usage
{
    internal const string Text = """
        usage: dotnet run -c Release --project samples/Tabular -- [options]
          --data DIR        the exported suite (default build/mlbench; exported there from Debian's r-cran-mlbench when missing)
          --sets A,B        only these sets (default: all in suite.tsv)
          --seeds 1,2,3     split (and trainer) seeds; medians over them are reported (default 1,2,3)
          --trainers LIST   built-in trainers: lightgbm,fasttree,sdca (default all; "none" for none)
          --mlp NAME=SPEC   an MLP variant, SPEC = "Option=value;..." (repeatable; default one variant "mlp" with the defaults)
          --scale raw|normalized|1e30   what to do to the numeric columns first (default raw)
          --threads N       threads for every trainer that takes a count (default 2)
          --out FILE        also write the results as markdown (and FILE.csv with every run)
        """;
}
