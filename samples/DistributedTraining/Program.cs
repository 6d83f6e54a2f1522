// Synchronous data-parallel training of the multiclass MLP on Fashion-MNIST (installed, else the embedded subset), or
// with --text on Debian's package list (sparse text features: the ranks exchange row-sparse first-layer gradients).
//
//   mpirun -np 2 dotnet samples/DistributedTraining/bin/Release/net10.0/DistributedTraining.dll [options]
//   dotnet run -c Release --project samples/DistributedTraining -- --ranks 2      (ranks on threads, no MPI)
//   dotnet run -c Release --project samples/DistributedTraining                   (one process: the baseline)
//
// Every rank loads the same data and trains on its share of every global minibatch; the gradients are summed by
// MlpMpiCommunicator (MPI) or MlpInProcessCommunicator (--ranks N). Rank 0 evaluates and saves the model.
// Options: --data DIR, --epochs N (default 10), --threads N (per rank, default 1 with several ranks), --hidden 256,128,
//          --ensemble N (default 1), --out DIR (default build/distributed), --weights FILE (write the first layer's
//          weights, to compare runs), --fail-rank R --fail-epoch E [--fail-hard] (rank R exits, or crashes, during
//          epoch E: the others must stop), --checkpoint FILE (write a checkpoint after every epoch; resume from it
//          when it exists: run the same command again after a failure), --text FILE [--rows N] (the package list exported
//          by scripts/debian-packages-export.py, its first N rows: section from package name + description),
//          --shard (every rank reads only its shard: DataSharding = ByRowId), --stream (DataMode = Streaming).
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FashionMnist;
using Microsoft.ML;
using MlNetMlp;

string dataDir = null, outDir = "build/distributed", weightsFile = null, checkpoint = null, textFile = null;
int epochs = 10, ensemble = 1, inProcessRanks = 0, failRank = -1, failEpoch = 0, textRows = 0;
bool failHard = false, shard = false, stream = false;
int? threads = null;
int[] hidden = { 256, 128 };
for (int i = 0; i < args.Length; i++)
{
    string Next() => args[++i];
    int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--data": dataDir = Next(); break;
        case "--epochs": epochs = NextInt(); break;
        case "--threads": threads = NextInt(); break;
        case "--hidden": hidden = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
        case "--ensemble": ensemble = NextInt(); break;
        case "--ranks": inProcessRanks = NextInt(); break;
        case "--out": outDir = Next(); break;
        case "--weights": weightsFile = Next(); break;
        case "--fail-rank": failRank = NextInt(); break;
        case "--fail-epoch": failEpoch = NextInt(); break;
        case "--fail-hard": failHard = true; break;
        case "--checkpoint": checkpoint = Next(); break;
        case "--text": textFile = Next(); break;
        case "--shard": shard = true; break;
        case "--stream": stream = true; break;
        case "--rows": textRows = NextInt(); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]} (see the comment at the top of Program.cs)"); return 2;
    }
}

var data = textFile == null ? Dataset.Load(dataDir) : null;
if (inProcessRanks > 1)
{
    var ranks = MlpInProcessCommunicator.Create(inProcessRanks);
    var results = new int[inProcessRanks];
    Parallel.For(0, inProcessRanks, new ParallelOptions { MaxDegreeOfParallelism = inProcessRanks }, r => results[r] = Train(ranks[r]));
    return results.Max();
}
if (MlpMpiCommunicator.StartedByLauncher())
{
    using var mpi = new MlpMpiCommunicator();
    return Train(mpi);
}
return Train(null);

int Train(IMlpCommunicator comm)
{
    int rank = comm?.Rank ?? 0, size = comm?.Size ?? 1;
    var ml = new MLContext(seed: 1);
    var (train, test, prefix, description) = textFile == null ? FashionMnistTask(ml) : TextTask(ml);
    double communication = 0;
    var timed = comm == null ? null : new TimedCommunicator(comm);
    var epochEnds = new System.Collections.Generic.List<(double Elapsed, double Communication)>();
    var options = new MlpMulticlassTrainer.Options
    {
        HiddenLayerSizes = hidden,
        EnsembleSize = ensemble,
        NumberOfEpochs = epochs,
        NumberOfThreads = threads ?? (size > 1 ? 1 : null),
        EarlyStoppingPatience = 0, // the test set below is for reporting only
        Communicator = timed,
        CheckpointPath = checkpoint,
        DataSharding = shard ? MlpDataSharding.ByRowId : MlpDataSharding.Replicated,
        DataMode = stream ? MlpDataMode.Streaming : MlpDataMode.Auto,
        ResumeFromCheckpoint = checkpoint != null,
        EpochCallback = report =>
        {
            epochEnds.Add((report.Elapsed.TotalSeconds, timed?.Seconds ?? 0));
            if (rank == 0)
                Console.WriteLine($"  epoch {report.Epoch,3}: training loss {report.TrainingLoss:F4}, {report.Elapsed.TotalSeconds:F1} s");
            if (rank == failRank && report.Epoch + 1 == failEpoch)
            {
                Console.Error.WriteLine($"rank {rank}: {(failHard ? "crashing" : "exiting")} during epoch {failEpoch} (--fail-rank)");
                if (failHard)
                    Environment.FailFast("--fail-hard"); // no clean-up at all, as a killed process
                Environment.Exit(3);
            }
        },
    };
    if (rank == 0)
        Console.WriteLine($"{description}, {size} rank(s) ({(comm == null ? "one process" : comm.GetType().Name)}), " +
            $"{options.NumberOfThreads?.ToString(CultureInfo.InvariantCulture) ?? "all"} thread(s) per rank" +
            (shard && size > 1 ? ", every rank reads its shard" : "") + (stream ? ", streamed" : ""));
    if (rank == 0 && checkpoint != null)
        Console.WriteLine(File.Exists(checkpoint) ? $"resuming from the checkpoint {checkpoint}" : $"checkpoints to {checkpoint}");
    var pipeline = prefix.Append(ml.MulticlassClassification.Trainers.Mlp(options));
    var clock = Stopwatch.StartNew();
    var model = pipeline.Fit(train);
    double seconds = clock.Elapsed.TotalSeconds;
    communication = timed?.Seconds ?? 0;
    var mlp = model.LastTransformer.Model;
    var w = mlp.GetWeights(0);
    double checksum = w.Sum(x => (double)x);
    // epochs after the first (its start includes the set-up): their mean time and the share of it in the collectives
    int later = epochEnds.Count - 1;
    double epoch = later > 0 ? (epochEnds[^1].Elapsed - epochEnds[0].Elapsed) / later : seconds;
    double epochComm = later > 0 ? (epochEnds[^1].Communication - epochEnds[0].Communication) / later : communication;
    Console.WriteLine($"rank {rank}: fit {seconds:F1} s; epochs 2-{epochEnds.Count}: {epoch:F3} s each, {1000 * epochComm:F0} ms of it " +
        $"({100 * epochComm / epoch:F0}%) in the collectives; first-layer weight sum {checksum:R}");
    if (rank == 0)
    {
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, $"model-{size}rank.zip");
        ml.Model.Save(model, train.Schema, path);
        Console.WriteLine($"test accuracy {metrics.MicroAccuracy:F4}, log-loss {metrics.LogLoss:F4}; saved {path}");
        if (weightsFile != null)
            File.WriteAllBytes(weightsFile, w.SelectMany(BitConverter.GetBytes).ToArray());
    }
    return 0;
}

(IDataView Train, IDataView Test, IEstimator<ITransformer> Prefix, string Description) FashionMnistTask(MLContext ml)
{
    int features = data.Train[0].Features.Length;
    return (Dataset.ToDataView(ml, data.Train, features), Dataset.ToDataView(ml, data.Test, features),
        ml.Transforms.Conversion.MapValueToKey("Label"), $"{data.Description}: {data.Train.Length} training rows");
}

// every rank fits the same featurizer on the same rows: the same sparse columns everywhere
(IDataView Train, IDataView Test, IEstimator<ITransformer> Prefix, string Description) TextTask(MLContext ml)
{
    IDataView rows = ml.Data.LoadFromTextFile<PackageRow>(textFile, separatorChar: '\t', hasHeader: true, allowQuoting: false);
    if (textRows > 0)
        rows = ml.Data.TakeRows(rows, textRows);
    var split = ml.Data.TrainTestSplit(rows, testFraction: 0.2, seed: 1);
    var prefix = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PackageRow.Section))
        .Append(ml.Transforms.Text.FeaturizeText("Features", new Microsoft.ML.Transforms.Text.TextFeaturizingEstimator.Options(), nameof(PackageRow.Package), nameof(PackageRow.Description)));
    return (ml.Data.Cache(split.TrainSet), split.TestSet, prefix, $"Debian packages ({textFile}{(textRows > 0 ? $", first {textRows} rows" : "")}), sparse text features");
}

/// <summary>A package of the exported list (scripts/debian-packages-export.py).</summary>
sealed class PackageRow
{
    [Microsoft.ML.Data.LoadColumn(0)] public string Section { get; set; }
    [Microsoft.ML.Data.LoadColumn(1)] public string Package { get; set; }
    [Microsoft.ML.Data.LoadColumn(2)] public string Description { get; set; }
}

/// <summary>Times the collectives (the communication share of an epoch).</summary>
sealed class TimedCommunicator : IMlpCommunicator
{
    private readonly IMlpCommunicator _inner;
    private readonly Stopwatch _clock = new Stopwatch();

    public TimedCommunicator(IMlpCommunicator inner) => _inner = inner;

    public double Seconds => _clock.Elapsed.TotalSeconds;
    public int Rank => _inner.Rank;
    public int Size => _inner.Size;

    private T Time<T>(Func<T> call)
    {
        _clock.Start();
        try { return call(); }
        finally { _clock.Stop(); }
    }

    public void AllReduceSum(Span<float> values) { _clock.Start(); try { _inner.AllReduceSum(values); } finally { _clock.Stop(); } }
    public void AllReduceSum(Span<double> values) { _clock.Start(); try { _inner.AllReduceSum(values); } finally { _clock.Stop(); } }
    public void Broadcast(Span<float> values, int root) { _clock.Start(); try { _inner.Broadcast(values, root); } finally { _clock.Stop(); } }
    public float[][] AllGather(ReadOnlySpan<float> values) { var copy = values.ToArray(); return Time(() => _inner.AllGather(copy)); }
    public void Barrier() => Time(() => { _inner.Barrier(); return 0; });
}
