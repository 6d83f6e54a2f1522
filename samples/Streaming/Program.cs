// Streaming against in-memory training, one mode per process so that the peak RSS is its own.
//
//   dotnet run -c Release --project samples/Streaming -- fashion --mode streaming|inmemory [--idv FILE] [--epochs N]
//       Fashion-MNIST (installed, else the embedded subset) saved once as an ML.NET binary file (SaveAsBinary) and read
//       back with LoadFromBinary; the MLP trained from that file; test accuracy, fit time, peak RSS.
//   dotnet run -c Release --project samples/Streaming -- generated [--rows 10000000] [--epochs 1]
//       a generated view of rows x 100 dense floats (4 GB at 10M rows), never materialized, streamed; rows/s, peak RSS.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using FashionMnist;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp;

if (args.Length == 0 || (args[0] != "fashion" && args[0] != "generated"))
{
    Console.Error.WriteLine("usage: Streaming fashion --mode streaming|inmemory [--idv FILE] [--epochs N] | generated [--rows N] [--epochs N]");
    return 2;
}
string mode = "streaming", idv = "build/fashion-mnist-train.idv";
bool shuffle = true;
long rows = 10_000_000;
int? epochs = null;
for (int i = 1; i < args.Length; i++)
{
    string Next() => args[++i];
    switch (args[i])
    {
        case "--mode": mode = Next(); break;
        case "--idv": idv = Next(); break;
        case "--rows": rows = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--no-shuffle": shuffle = false; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
var ml = new MLContext(seed: 1);
if (args[0] == "generated")
{
    var view = new GeneratedView(rows);
    var options = new MlpRegressionTrainer.Options { DataMode = MlpDataMode.Streaming, NumberOfEpochs = epochs ?? 1, HiddenLayerSizes = new[] { 64 }, EnsembleSize = 1, NumberOfThreads = 2 };
    var clock = Stopwatch.StartNew();
    var model = ml.Regression.Trainers.Mlp(options).Fit(view);
    double s = clock.Elapsed.TotalSeconds;
    var history = model.Model.TrainingHistory;
    Console.WriteLine($"generated: {rows} rows x {GeneratedView.Columns} floats ({rows * GeneratedView.Columns * 4.0 / 1e9:F1} GB as floats), " +
        $"{options.NumberOfEpochs} epoch(s) in {s:F1} s ({rows * (options.NumberOfEpochs.Value + 1) / s:F0} rows/s read, the statistics pass included), " +
        $"last training loss {history.Last().TrainingLoss:F4}, peak RSS {PeakRss() / 1048576} MB");
    return 0;
}

var data = Dataset.Load(null);
if (!File.Exists(idv))
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(idv)));
    var prep = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.NormalizeMinMax("Features"));
    var source = Dataset.ToDataView(ml, data.Train, 784);
    using var file = File.Create(idv);
    ml.Data.SaveAsBinary(prep.Fit(source).Transform(source), file, keepHidden: false);
}
var train = ml.Data.LoadFromBinary(idv);
if (mode == "read") // the cost of reading the file alone: two cursor passes, in order and shuffled
{
    long start = PeakRss();
    foreach (var rand in new[] { null, new Random(1) })
    {
        var w = Stopwatch.StartNew();
        using var cursor = train.GetRowCursor(train.Schema, rand);
        var get = cursor.GetGetter<VBuffer<float>>(train.Schema["Features"]);
        VBuffer<float> f = default;
        long n = 0;
        while (cursor.MoveNext()) { get(ref f); n++; }
        Console.WriteLine($"read {n} rows {(rand == null ? "in order" : "shuffled")} in {w.Elapsed.TotalSeconds:F2} s; peak RSS {PeakRss() / 1048576} MB (before {start / 1048576} MB)");
    }
    return 0;
}
var testRaw = Dataset.ToDataView(ml, data.Test, 784);
var trainer = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options
{
    DataMode = mode == "streaming" ? MlpDataMode.Streaming : MlpDataMode.InMemory, NumberOfEpochs = epochs, NumberOfThreads = 2, Shuffle = shuffle,
});
long before = PeakRss();
var watch = Stopwatch.StartNew();
var trained = trainer.Fit(train);
double seconds = watch.Elapsed.TotalSeconds;
long rss = PeakRss();
// the test images through the same label mapping and scaling as the training file
var prefix = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.NormalizeMinMax("Features")).Fit(Dataset.ToDataView(ml, data.Train, 784));
var metrics = ml.MulticlassClassification.Evaluate(trained.Transform(prefix.Transform(testRaw)));
Console.WriteLine($"fashion ({data.Description}) from {idv}, {mode}: accuracy {metrics.MicroAccuracy:F4}, fit {seconds:F1} s, " +
    $"peak RSS {rss / 1048576} MB (before fit {before / 1048576} MB)");
return 0;

static long PeakRss() => File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
    .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).FirstOrDefault();
