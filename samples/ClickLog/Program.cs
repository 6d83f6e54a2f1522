// A synthetic click log: 1,000,000 rows of ~30 hashed features in 2^20 slots and a binary label that depends on an
// interaction (a user token and an ad token: a rule no linear model can learn). Generated lazily, row by row, so that
// the view itself costs no memory. One trainer per process so that the peak RSS is its own.
//
// usage: dotnet run -c Release --project samples/ClickLog -- [--rows N] [--trainer mlp|sdca] [--epochs E] [--threads T]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MlNetMlp;

int rows = 1_000_000, epochs = 1, threads = 2;
string trainer = "mlp";
for (int i = 0; i < args.Length; i++)
{
    string Next() => args[++i];
    switch (args[i])
    {
        case "--rows": rows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--trainer": trainer = Next(); break;
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
var ml = new MLContext(seed: 1);
var schema = SchemaDefinition.Create(typeof(Click));
schema[nameof(Click.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Click.Slots);
var train = ml.Data.LoadFromEnumerable(Click.Generate(rows, seed: 1), schema);
var test = ml.Data.LoadFromEnumerable(Click.Generate(50_000, seed: 2), schema);
IEstimator<ITransformer> estimator = trainer switch
{
    // one pass over the data each
    "sdca" => ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options { MaximumNumberOfIterations = epochs, NumberOfThreads = threads }),
    "mlp" => ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { NumberOfEpochs = epochs, NumberOfThreads = threads }),
    _ => throw new ArgumentException("--trainer mlp or sdca"),
};
var clock = Stopwatch.StartNew();
var model = estimator.Fit(train);
double seconds = clock.Elapsed.TotalSeconds;
var metrics = ml.BinaryClassification.EvaluateNonCalibrated(model.Transform(test));
Console.WriteLine($"{trainer}: {rows} rows x {Click.Slots} slots, {epochs} epoch(s): fit {seconds:F1} s ({rows / seconds:F0} rows/s), " +
    $"test accuracy {metrics.Accuracy:F4}, AUC {metrics.AreaUnderRocCurve:F4}, peak RSS {PeakRss() / 1048576} MB");
return 0;

static long PeakRss() => File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
    .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).FirstOrDefault();

/// <summary>One impression: a user token, an ad token and 28 context tokens hashed into 2^20 slots; clicked when the
/// user's and the ad's hidden parities agree (an XOR: no linear model of the slots learns it).</summary>
public sealed class Click
{
    public const int Slots = 1 << 20;
    public bool Label { get; set; }
    public VBuffer<float> Features { get; set; }

    private static int Slot(int field, int token) => (int)((uint)HashMix((ulong)field << 32 | (uint)token) & (Slots - 1));

    private static ulong HashMix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
        return z ^ (z >> 31);
    }

    public static IEnumerable<Click> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var slots = new SortedSet<int>();
        for (int i = 0; i < count; i++)
        {
            int user = random.Next(2000), ad = random.Next(500);
            slots.Clear();
            slots.Add(Slot(1, user));
            slots.Add(Slot(2, ad));
            for (int f = 3; f < 31; f++) slots.Add(Slot(f, random.Next(50)));
            bool click = ((user * 7919 % 13) % 2 == 1) ^ ((ad * 104729 % 11) % 2 == 1);
            if (random.NextDouble() < 0.05) click = !click; // label noise
            var idx = slots.ToArray();
            yield return new Click { Label = click, Features = new VBuffer<float>(Slots, idx.Length, Enumerable.Repeat(1f, idx.Length).ToArray(), idx) };
        }
    }
}
