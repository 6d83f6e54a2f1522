// The text benchmark: Debian's package list as text classification (section from package name + description), the
// pipeline a new ML.NET user would write (FeaturizeText: word 1-2-grams + char 3-grams), one trainer per process so
// that the peak RSS belongs to it.
//
// usage: dotnet run -c Release --project samples/Text -- [options]
//   --data FILE     the exported task (default build/debian-packages.tsv; exported from `apt-cache dumpavail` when missing)
//   --rows N        the first N packages only (default: all)
//   --trainer NAME  sdca | mlp (default mlp)
//   --mlp SPEC      MLP options "Option=value;..." (as in samples/Tabular)
//   --threads N     threads for the trainer (default 2)
//   --seed N        TrainTestSplit and MLContext seed (default 1)
//   --out FILE      append one CSV line with the results
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Tabular;

string dataPath = "build/debian-packages.tsv", trainerName = "mlp", spec = "", outFile = null;
int rowLimit = 0, threads = 2, seed = 1;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--data": dataPath = Next(); break;
        case "--rows": rowLimit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--trainer": trainerName = Next(); break;
        case "--mlp": spec = Next(); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--out": outFile = Next(); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (!File.Exists(dataPath))
{
    Console.WriteLine($"{dataPath} not found: exporting Debian's package list (apt-cache dumpavail)");
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(dataPath)));
    var export = Process.Start(new ProcessStartInfo("/usr/bin/python3") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "debian-packages-export.py"), dataPath } });
    export.WaitForExit();
    if (export.ExitCode != 0) return 1;
}

var ml = new MLContext(seed: seed);
IDataView data = ml.Data.LoadFromTextFile<PackageRow>(dataPath, separatorChar: '\t', hasHeader: true, allowQuoting: false);
if (rowLimit > 0)
    data = ml.Data.TakeRows(data, rowLimit);
var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: seed);
var featurizer = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PackageRow.Section))
    .Append(ml.Transforms.Text.FeaturizeText("Features", new Microsoft.ML.Transforms.Text.TextFeaturizingEstimator.Options(), nameof(PackageRow.Package), nameof(PackageRow.Description)))
    .Fit(split.TrainSet);
var train = ml.Data.Cache(featurizer.Transform(split.TrainSet));
var test = ml.Data.Cache(featurizer.Transform(split.TestSet));
Evaluation.Touch(train);
Evaluation.Touch(test);
int features = ((VectorDataViewType)train.Schema["Features"].Type).Size;
long trainRows = train.GetRowCount() ?? 0, testRows = test.GetRowCount() ?? 0;
Console.WriteLine($"{trainRows} training / {testRows} test packages, {features} features; trainer {trainerName}");

IEstimator<ITransformer> trainer = trainerName switch
{
    "sdca" => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = threads }),
    "mlp" => Trainers.Mlp("mlp", spec, threads).Create(ml, TaskKind.Multiclass, seed),
    _ => throw new ArgumentException($"unknown trainer {trainerName}: sdca or mlp"),
};
long rssBefore = PeakRssBytes();
var clock = Stopwatch.StartNew();
var model = trainer.Fit(train);
double fitSeconds = clock.Elapsed.TotalSeconds;
long rss = PeakRssBytes();
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));

// scoring speed: the whole test set through Transform, reading Score (median of 3)
var times = Enumerable.Range(0, 3).Select(_ =>
{
    var c = Stopwatch.StartNew();
    var scored = model.Transform(test);
    using var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] });
    var get = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
    VBuffer<float> s = default;
    while (cursor.MoveNext()) get(ref s);
    return c.Elapsed.TotalSeconds;
}).OrderBy(t => t).ToArray();
double rowsPerSecond = testRows / times[1];
string zip = Path.Combine(Path.GetTempPath(), $"text-{trainerName}-{Environment.ProcessId}.zip");
ml.Model.Save(featurizer.Append(model), split.TrainSet.Schema, zip);
long zipBytes = new FileInfo(zip).Length;
File.Delete(zip);

var inv = CultureInfo.InvariantCulture;
Console.WriteLine($"accuracy {metrics.MicroAccuracy:F4}  fit {fitSeconds:F1} s  peak RSS {rss / 1048576} MB (before fit {rssBefore / 1048576} MB)  " +
    $"Transform {rowsPerSecond:F0} rows/s  model.zip {zipBytes / 1024} KiB");
if (outFile != null)
    File.AppendAllText(outFile, string.Join(",", trainerName, spec.Replace(',', ' '), trainRows, features, metrics.MicroAccuracy.ToString("F4", inv),
        fitSeconds.ToString("F2", inv), rss / 1048576, rowsPerSecond.ToString("F0", inv), zipBytes / 1024) + Environment.NewLine);
return 0;

static long PeakRssBytes()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    return 0;
}

/// <summary>One package: its section (the label), name and one-line description.</summary>
public sealed class PackageRow
{
    [LoadColumn(0)] public string Section { get; set; }
    [LoadColumn(1)] public string Package { get; set; }
    [LoadColumn(2)] public string Description { get; set; }
}
